"""Typed view of a validated recipe, with every default filled in (so the lock file is complete)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ENGINE: dict[str, Any] = {
    "dtype": "auto", "max_model_len": 2048, "enforce_eager": True, "enable_chunked_prefill": None,
    "max_num_seqs": None, "kv_cache_space_gib": 2,
    "gpu_memory_utilization": 0.9, "tensor_parallel_size": 1, "num_engines": 1,
    "cpus_per_engine": 1, "gpus_per_engine": 0, "batch_size": 32,
}
DEFAULT_API: dict[str, Any] = {
    "api_key_env": None, "native_tools": False, "guard_param": None, "concurrency": 32, "http_client": "aiohttp",
    "requests_per_minute": None, "tokens_per_minute": None, "timeout_s": 60.0, "max_retries": 6, "backoff_s": 0.5,
    "max_backoff_s": 30.0, "max_invalid_retries": 2, "max_length_retries": 1, "max_consecutive_failures": 50,
}
DEFAULT_CLASSIFY: dict[str, Any] = {"method": "embedding", "min_similarity": 0.2,
                                    "kinds": ["harmful", "benign", "sensitive"]}
DEFAULT_JUDGE: dict[str, Any] = {"enabled": False, "thresholds": {"safety": 3, "rule_relevance": 2, "reasoning": 2},
                                 "max_attempts": 3, "max_tokens": 64}
DEFAULT_REFUSAL_CLASSIFIER: dict[str, Any] = {"method": "model", "cascade_threshold": 0.8}
DEFAULT_SAMPLING: dict[str, Any] = {"temperature": 0.7, "top_p": 0.95, "top_k": -1, "max_tokens": 512,
                                    "repetition_penalty": 1.0}


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str                       # harmful | benign | reasoning | per_row
    path: Path | None = None        # local file (resolved)
    dataset: str | None = None      # Hub dataset id
    config: str | None = None
    revision: str | None = None
    format: str | None = None
    split: str = "train"
    columns: dict[str, str] = field(default_factory=dict)
    category: str | None = None
    sample: int | None = None

    def column(self, key: str) -> str:
        return self.columns.get(key, key)


@dataclass(frozen=True)
class TeacherSpec:
    backend: str
    model: str
    revision: str | None
    engine: dict[str, Any]
    sampling: dict[str, Any]
    api: dict[str, Any] | None = None     # backend: openai


@dataclass(frozen=True)
class GuardSpec:
    enabled: bool = False
    min_reasoning_chars: int = 20
    max_reasoning_chars: int = 600
    max_answer_chars: int = 600
    refusal_openers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    path: Path
    raw: dict[str, Any]             # the recipe as written
    name: str
    seed: int
    output_dir: Path
    sources: tuple[SourceSpec, ...]
    modes: tuple[str, ...]
    rulebook_path: Path
    template_paths: dict[str, Path]
    teacher: TeacherSpec
    guard: GuardSpec
    max_tool_calls: int = 1
    max_prompt_chars: int = 4000
    max_failed_fraction: float = 0.1
    filters: dict[str, bool] = field(default_factory=dict)
    dedupe: dict[str, Any] = field(default_factory=dict)
    publish: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    ray_address: str | None = None
    retrieval: dict[str, Any] = field(default_factory=dict)
    classify: dict[str, Any] = field(default_factory=dict)
    consult_balance: dict[str, dict[str, float]] = field(default_factory=dict)
    reasoning_samples: int = 1
    refusal_classifier: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_REFUSAL_CLASSIFIER))
    degeneration: dict[str, Any] = field(default_factory=dict)
    consistency: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)   # resolved; judge["teacher"] is a TeacherSpec or None
    judge_teacher: TeacherSpec | None = None              # the teacher behind the judge and the llm classifier
    decontamination: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_judge(self) -> bool:
        return bool(self.judge.get("enabled")) or self.refusal_classifier["method"] in ("llm", "cascade")

    def resolved(self) -> dict[str, Any]:
        """The fully resolved recipe (defaults filled, paths absolute) for the lock file and the hash."""
        d = asdict(self)
        d.pop("raw")
        d.pop("path")
        return _jsonable(d)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
