"""Typed records passed between stages. Stage boundaries convert to/from plain dicts (Parquet rows)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("harmful", "benign", "sensitive", "reasoning")
MODES = ("explicit", "adaptive")
DECISIONS = ("refuse", "safe_complete", "comply")
RULE_ID = re.compile(r"\[([a-z][a-z0-9_]*\.[0-9]+)\]")        # a rule id as cited: [weapons.1]
_GIVEN_RULE = re.compile(r"^\s*\[([a-z][a-z0-9_]*\.[0-9]+)\]", re.MULTILINE)   # a rule line of a system prompt
# Funnel stages in order: where a trace can leave the build, then "final" for the rows kept.
STAGES = ("failed", "truncated", "invalid_structure", "wrong_language", "degenerate", "ungrounded_citation", "wrong_refusal",
          "inconsistent", "wrong_answer",
          "judge_rejected", "consult_balance", "exact_duplicate", "near_duplicate", "semantic_duplicate", "final")


@dataclass(frozen=True)
class Prompt:
    """One validated prompt from a source."""
    id: str                 # sha256 of (kind, text): equal prompts collapse to one
    text: str
    kind: str
    category: str | None
    source: str
    reference: str | None = None
    category_source: str | None = None   # "embedding" when the category was inferred, not given by the source


@dataclass
class Request:
    """Everything the teacher needs for one trace; `id` is the sha256 of its canonical `key`."""
    id: str
    prompt: Prompt
    mode: str
    messages: list[dict[str, Any]]          # the teacher's initial context (system + user)
    sampling: dict[str, Any]                # includes the per-request seed
    guard: dict[str, str] | None            # regexes: {"answer": ..., "tool_or_answer": ...}
    max_tool_calls: int
    tool_categories: list[str]
    sample: int = 0                         # rejection-sampling index (0 = the first sample)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Request":
        return cls(**{**d, "prompt": Prompt(**d["prompt"])})


@dataclass
class Turn:
    """One teacher completion and how it parsed."""
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    reasoning: str | None = None
    decision: str | None = None
    answer: str | None = None
    tool_call: dict[str, Any] | None = None   # {"name", "arguments"} when well formed
    parse_error: str | None = None
    latency_s: float = 0.0                    # wall time of the call that produced it (retries included)
    attempts: int = 1
    mean_logprob: float | None = None         # the teacher's own mean token log-probability of this completion
    cached_prompt_tokens: int = 0             # prompt tokens the provider served from its prompt cache


@dataclass
class ToolExchange:
    call_id: str
    name: str
    arguments: Any
    content: str
    rule_ids: list[str]
    error: str | None


@dataclass
class GenerationRecord:
    """A finished (or failed) generation, as stored in the generation cache's parts."""
    id: str
    request: Request
    status: str                               # ok | failed
    error: str | None
    turns: list[Turn] = field(default_factory=list)
    tools: list[ToolExchange] = field(default_factory=list)
    teacher_messages: list[dict[str, Any]] = field(default_factory=list)   # full teacher context
    engine: dict[str, Any] = field(default_factory=dict)  # model, revision, engine, engine_version
    attempts: int = 1
    started_at: str = ""
    finished_at: str = ""
    fatal: bool = False   # the failure makes the teacher unusable (dead engine, rejected key): stop asking it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "GenerationRecord":
        return cls(**{**d, "request": Request.from_dict(d["request"]),
                      "turns": [Turn(**t) for t in d["turns"]],
                      "tools": [ToolExchange(**t) for t in d["tools"]]})

    @property
    def final(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def rule_ids_given(self) -> list[str]:
        """The rules the teacher had, in order: what its tool calls returned (adaptive) or the rule lines of its
        system prompt (explicit). The one definition the citation check, the judge and the published row use."""
        if self.request.mode == "adaptive":
            return list(dict.fromkeys(i for t in self.tools if not t.error for i in t.rule_ids))
        system = "\n".join(m["content"] for m in self.request.messages if m.get("role") == "system")
        return list(dict.fromkeys(_GIVEN_RULE.findall(system)))

    @property
    def consulted(self) -> bool:
        """The teacher consulted the rules: at least one tool call that got rules (or a no-match answer) back."""
        return any(not t.error for t in self.tools)


@dataclass
class Trace:
    """A trace in flight, from the filters to publishing: the generation record plus every fact a stage adds.

    Each stage fills its own fields (the filters: verdicts and the response label; the judge: `judge`; dedupe:
    `cluster` and `duplicate_of`) and removes a trace from the build only through `reject`, so the stage is
    always one the funnel counts. The rejects table is the traces that were not kept."""
    record: GenerationRecord
    verdicts: dict[str, str] = field(default_factory=dict)   # filter -> pass | reject:<reason> | n/a | off | ...
    stage: str | None = None            # funnel stage of the rejection; None while kept
    reason: str | None = None
    response_type: str | None = None    # comply | refuse | safe_complete, from the recipe's classifier
    confidence: float | None = None     # the classifier's confidence, where it has one
    judge: dict[str, Any] | None = None          # rubric scores (with the judge's reply), when it scored it
    judge_failure: dict[str, Any] | None = None  # the judge's unparseable reply, when it could not score it
    correct: bool | None = None         # reasoning prompts: the answer matches the reference
    cluster: str | None = None          # dedupe cluster id (every kept trace has one after dedupe)
    duplicate_of: str | None = None     # id of the kept trace this one duplicates

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def kept(self) -> bool:
        return self.stage is None

    def reject(self, stage: str, reason: str) -> None:
        if stage not in STAGES or stage == "final":
            raise ValueError(f"unknown funnel stage {stage!r}; expected one of {STAGES[:-1]}")
        self.stage, self.reason = stage, reason
