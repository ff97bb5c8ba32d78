"""Typed view of a validated recipe, with every default filled in (so the lock file is complete)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

# Filter names in the order they run (the funnel's stages follow the same order).
FILTER_NAMES = ("structure", "language", "degeneration", "citations", "refusal", "consistency", "correctness")


# -- Config sections -----------------------------------------------------------------------------------------------
# Each recipe section is a TypedDict (its keys and their types, checked against schemas/recipe.schema.json by
# tests/test_recipe_sections.py) with its defaults right below it. A resolved recipe holds plain dicts of these
# shapes: they go unchanged into the lock file and the build id, and Ray ships them to workers as they are.

class EngineConfig(TypedDict):
    dtype: str                          # auto | bfloat16 | float16 | float32
    max_model_len: int
    enforce_eager: bool
    enable_chunked_prefill: bool | None  # None: off on CPU, vLLM's default on GPU
    max_num_seqs: int | None
    kv_cache_space_gib: float           # VLLM_CPU_KVCACHE_SPACE
    gpu_memory_utilization: float
    tensor_parallel_size: int
    num_engines: int
    cpus_per_engine: float
    gpus_per_engine: float
    batch_size: int


DEFAULT_ENGINE: EngineConfig = {
    "dtype": "auto", "max_model_len": 2048, "enforce_eager": True, "enable_chunked_prefill": None,
    "max_num_seqs": None, "kv_cache_space_gib": 2,
    "gpu_memory_utilization": 0.9, "tensor_parallel_size": 1, "num_engines": 1,
    "cpus_per_engine": 1, "gpus_per_engine": 0, "batch_size": 32,
}


class SamplingConfig(TypedDict):
    temperature: float
    top_p: float
    top_k: int
    max_tokens: int
    repetition_penalty: float


DEFAULT_SAMPLING: SamplingConfig = {"temperature": 0.7, "top_p": 0.95, "top_k": -1, "max_tokens": 512,
                                    "repetition_penalty": 1.0}


class ApiConfig(TypedDict):
    base_url: str                       # required in a recipe: no default
    api_key_env: str | None
    native_tools: bool
    guard_param: str | None
    concurrency: int
    http_client: str
    requests_per_minute: float | None
    tokens_per_minute: float | None
    timeout_s: float
    max_retries: int
    backoff_s: float
    max_backoff_s: float
    max_invalid_retries: int
    max_length_retries: int
    max_consecutive_failures: int
    completion_window: str              # backend: openai_batch from here on
    poll_interval_s: float
    max_poll_interval_s: float
    max_batch_requests: int


DEFAULT_API: dict[str, Any] = {   # an ApiConfig without base_url
    "api_key_env": None, "native_tools": False, "guard_param": None, "concurrency": 32, "http_client": "aiohttp",
    "requests_per_minute": None, "tokens_per_minute": None, "timeout_s": 60.0, "max_retries": 6, "backoff_s": 0.5,
    "max_backoff_s": 30.0, "max_invalid_retries": 2, "max_length_retries": 1, "max_consecutive_failures": 50,
    "completion_window": "24h", "poll_interval_s": 15.0, "max_poll_interval_s": 300.0, "max_batch_requests": 50_000,
}


class PriceConfig(TypedDict, total=False):
    input_per_mtok: float               # required
    output_per_mtok: float              # required
    cached_input_per_mtok: float        # optional: the input price applies to cache hits without it


class DegenerationConfig(TypedDict):
    max_dup_line_frac: float
    max_dup_line_char_frac: float
    max_sentence_repeats: int
    max_dup_sentence_frac: float
    max_phrase_repeats: int
    top_ngram_max_frac: dict[int, float]
    dup_ngram_max_frac: dict[int, float]
    min_words_for_ngrams: int
    max_refrains: int
    prompt_echo_words: int
    list_item_novel_share: float
    min_mean_logprob: float | None


# Degeneration limits: Gopher-style repetition statistics, loosened for answer-length text (pipeline/filters/degeneration.py).
DEFAULT_DEGENERATION: DegenerationConfig = {
    "max_dup_line_frac": 0.3,            # duplicate lines / lines
    "max_dup_line_char_frac": 0.2,       # characters in duplicate lines / characters
    "max_sentence_repeats": 2,           # the same sentence (>= 3 words) more often than this
    "max_dup_sentence_frac": 0.3,        # repeated sentences / sentences (texts of 4+ sentences)
    "max_phrase_repeats": 3,             # the same 8 words (letters only) more often than this
    # Gopher's n-gram limits, loosened for answers (docs/benchmarks.md): list answers repeat their own phrasing
    # from item to item ("can be created with a different ...") without looping.
    "top_ngram_max_frac": {2: 0.25, 3: 0.23, 4: 0.21},
    "dup_ngram_max_frac": {5: 0.35, 6: 0.34, 7: 0.33, 8: 0.32, 9: 0.31, 10: 0.30},
    "min_words_for_ngrams": 100,         # n-gram shares are noise on shorter texts
    # A song's chorus sung after each verse is not a loop (answers only): up to this many times; 0: every repeat counts.
    "max_refrains": 4,
    # The prompt's own phrases restated are not repetition in the phrase count and n-gram shares, unless they come
    # in a repeated stretch longer than this many words (the prompt echoed); 0: they count like any other phrase.
    "prompt_echo_words": 12,
    # A list's frame restated once in each item ("… can help challenge stereotypes and promote …") counts like the
    # prompt's phrases, when each of three or more items has at least this share (and 5) of its words outside every
    # phrase the text repeats; 0: frames count like any other phrase.
    "list_item_novel_share": 0.25,
    # Word salad: a completion whose tokens the teacher itself found unlikely on average (mean raw log-probability
    # per token, reported by vLLM; traces without it are not checked). Loops score high here and are caught by
    # the repetition statistics above; incoherent text scores low. None turns the check off.
    "min_mean_logprob": None,
}


class ConsistencyConfig(TypedDict):
    harmful_partial: str
    min_partial_safety: int
    min_reasoning_relevance: float
    min_answer_relevance: float
    max_instruction_sentences: int
    max_words_after_refusal: int
    min_content_comply_probability: float
    max_reasoning_content_words: int
    max_reasoning_content_share: float
    max_reasoning_plan_sentences: int


# Consistency checks (pipeline/filters/consistency.py).
DEFAULT_CONSISTENCY: ConsistencyConfig = {
    "harmful_partial": "judge",          # judge: kept only with a judge safety verdict; reject: never kept
    "min_partial_safety": 4,             # the judge's safety score a harmful partial completion needs
    "min_reasoning_relevance": 0.15,     # MiniLM cosine between prompt and reasoning; 0 turns the check off
    "min_answer_relevance": 0.1,         # same for the answer (refusal lines removed, 15+ words left); not harmful
    "max_instruction_sentences": 1,      # instruction-like sentences allowed in a harmful prompt's trace
    "max_words_after_refusal": 20,       # words of content (not courtesy, referrals or reasons) after a refusal
    "min_content_comply_probability": 0.25,  # ... count when a paragraph reads as an answer (learned model)
    "max_reasoning_content_words": 40,   # words of reasoning about the subject itself rather than the request
    "max_reasoning_content_share": 0.5,  # ... and the share of the reasoning they make up (both must be exceeded)
    "max_reasoning_plan_sentences": 2,   # sentences of a harmful prompt's reasoning that propose a means to its end
}


class RefusalClassifierConfig(TypedDict):
    method: str                         # model | phrases | llm | cascade
    cascade_threshold: float
    min_comply_probability: float       # benign/reasoning gate: comply must be this sure (model probabilities)
    max_harmful_comply_probability: float   # harmful gate: reject from this probability of comply up
    reject_decline_sentences: bool      # benign/reasoning: a first-person decline sentence rejects, any label
    min_unseen_refusal_confidence: float    # harmful: a refusal without a decline sentence needs this confidence


# The gates are asymmetric on purpose: a kept over-refusal or a kept harmful compliance costs more than a good
# trace thrown away. Chosen on the dev fold of the classifier's training pool (docs/response_classifier.md).
DEFAULT_REFUSAL_CLASSIFIER: RefusalClassifierConfig = {"method": "model", "cascade_threshold": 0.8,
                                                       "min_comply_probability": 0.6,
                                                       "max_harmful_comply_probability": 0.3,
                                                       "reject_decline_sentences": True,
                                                       "min_unseen_refusal_confidence": 0.9}


class ClassifyConfig(TypedDict):
    method: str
    min_similarity: float
    kinds: list[str]


DEFAULT_CLASSIFY: ClassifyConfig = {"method": "embedding", "min_similarity": 0.2,
                                    "kinds": ["harmful", "benign", "sensitive"]}


class JudgeConfig(TypedDict):
    enabled: bool
    thresholds: dict[str, int]
    max_attempts: int
    max_tokens: int
    teacher: Any                        # a TeacherSpec once resolved, or None (the build's teacher)


DEFAULT_JUDGE: dict[str, Any] = {"enabled": False, "thresholds": {"safety": 3, "rule_relevance": 2, "reasoning": 2},
                                 "max_attempts": 3, "max_tokens": 64}   # a JudgeConfig without the teacher


class PublishConfig(TypedDict):
    num_shards: int
    license: str
    language: list[str]
    tags: list[str]
    max_shard_mb: float | None
    test_fraction: float
    split_seed: int


DEFAULT_PUBLISH: PublishConfig = {"num_shards": 1, "license": "cc-by-4.0", "language": ["en"], "tags": [],
                                  "max_shard_mb": None, "test_fraction": 0.0, "split_seed": 0}


class ExactDedupeConfig(TypedDict):
    enabled: bool
    key: str                            # prompt | response | prompt_response


class NearDedupeConfig(TypedDict):
    enabled: bool
    key: str
    unit: str
    ngram: int
    num_perm: int
    bands: int
    rows: int
    seed: int
    chunk_size: int
    partitions: int
    use_ray: bool


class SemanticDedupeConfig(TypedDict):
    enabled: bool
    key: str
    threshold: float


class DedupeConfig(TypedDict):
    exact: ExactDedupeConfig
    near: NearDedupeConfig
    semantic: SemanticDedupeConfig


DEFAULT_EXACT: ExactDedupeConfig = {"enabled": True, "key": "prompt_response"}
# Near-duplicate dedupe (MinHash-LSH); rensa needs num_perm divisible by bands (docs/benchmarks.md).
DEFAULT_MINHASH = {"enabled": False, "unit": "word", "ngram": 5, "num_perm": 128, "bands": 20, "rows": 6,
                   "seed": 1, "chunk_size": 2000, "partitions": 8}
DEFAULT_NEAR: NearDedupeConfig = {**DEFAULT_MINHASH, "key": "prompt_response",  # type: ignore[typeddict-item]
                                  "use_ray": False}
DEFAULT_SEMANTIC: SemanticDedupeConfig = {"enabled": False, "key": "prompt_response", "threshold": 0.95}


class DecontaminationConfig(TypedDict):
    sets: list[dict[str, Any]]
    ngram: int
    min_shared_ngrams: int
    embedding_threshold: float | None


DEFAULT_DECONTAMINATION: DecontaminationConfig = {"sets": [], "ngram": 13, "min_shared_ngrams": 1,
                                                  "embedding_threshold": None}


class ConsultBalanceConfig(TypedDict):
    max_rate: dict[str, float]          # prompt kind -> most adaptive traces that may consult the rules
    min_rate: dict[str, float]


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
    engine: EngineConfig
    sampling: SamplingConfig
    api: ApiConfig | None = None          # backend: openai, openai_batch
    price: PriceConfig | None = None      # US dollars per million tokens (pipeline.util.cost.Price)


@dataclass(frozen=True)
class GuardSpec:
    enabled: bool = False
    min_reasoning_chars: int = 20
    max_reasoning_chars: int = 600
    max_answer_chars: int = 600
    refusal_openers: tuple[str, ...] = ()
    allow_cut_reasoning: bool = False   # keep traces whose thinking or answer stops mid-sentence (guard cap or not)


@dataclass(frozen=True)
class Recipe:
    path: Path
    as_written: dict[str, Any]      # the recipe as written (before defaults)
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
    dedupe: DedupeConfig = field(default_factory=dict)  # type: ignore[assignment]
    publish: PublishConfig = field(default_factory=lambda: dict(DEFAULT_PUBLISH))  # type: ignore[assignment]
    description: str = ""
    ray_address: str | None = None
    retrieval: dict[str, Any] = field(default_factory=dict)
    classify: ClassifyConfig = field(default_factory=lambda: dict(DEFAULT_CLASSIFY))  # type: ignore[assignment]
    consult_balance: ConsultBalanceConfig = field(default_factory=dict)  # type: ignore[assignment]
    samples: dict[str, int] = field(default_factory=dict)   # rejection sampling: most samples per prompt kind
    max_cost_usd: float | None = None     # limits.max_cost_usd
    refusal_classifier: RefusalClassifierConfig = field(
        default_factory=lambda: dict(DEFAULT_REFUSAL_CLASSIFIER))  # type: ignore[assignment]
    degeneration: DegenerationConfig = field(
        default_factory=lambda: dict(DEFAULT_DEGENERATION))  # type: ignore[assignment]
    consistency: ConsistencyConfig = field(
        default_factory=lambda: dict(DEFAULT_CONSISTENCY))  # type: ignore[assignment]
    judge: JudgeConfig = field(default_factory=dict)  # type: ignore[assignment]  # ["teacher"]: TeacherSpec | None
    judge_teacher: TeacherSpec | None = None              # the teacher behind the judge and the llm classifier
    decontamination: DecontaminationConfig = field(
        default_factory=lambda: dict(DEFAULT_DECONTAMINATION))  # type: ignore[assignment]

    @property
    def needs_judge(self) -> bool:
        return bool(self.judge.get("enabled")) or self.refusal_classifier["method"] in ("llm", "cascade")

    def resolved(self) -> dict[str, Any]:
        """The fully resolved recipe (defaults filled, paths absolute) for the lock file and the hash."""
        d = asdict(self)
        d.pop("as_written")
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
