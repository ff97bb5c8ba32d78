"""Run the filters in funnel order. The first rejection decides a record's stage; every record keeps a
verdict per filter (pass, reject:<reason>, n/a, off, or not_reached).

Facts that need a model (the answer's response type and confidence, the prompt-reasoning similarity) are
computed once per batch, before any filter runs, and shared: the refusal filter, the consistency filter and the
published row all read the same label."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..records import RawRecord
from .citations import CitationFilter
from .consistency import DEFAULT_CONSISTENCY, ConsistencyFilter, TraceFacts
from .correctness import CorrectnessFilter
from .degeneration import DegenerationFilter
from .refusal import RefusalFilter
from .structure import StructureFilter, is_truncated

FILTER_NAMES = ("structure", "degeneration", "citations", "refusal", "consistency", "correctness")
# record id -> (label, confidence); label None where an LLM label could not be had (see labels.Labeller)
Labeler = Callable[[list[RawRecord]], dict[str, tuple[str | None, float | None]]]


@dataclass
class FilterOutcome:
    record: RawRecord
    verdicts: dict[str, str] = field(default_factory=dict)
    stage: str | None = None        # funnel stage of the rejection; None when kept
    reason: str | None = None
    response_type: str | None = None   # comply | refuse | safe_complete, from the recipe's classifier
    confidence: float | None = None

    @property
    def kept(self) -> bool:
        return self.stage is None


@dataclass(frozen=True)
class FilterSettings:
    enabled: dict[str, bool] = field(default_factory=dict)
    degeneration: dict | None = None
    consistency: dict = field(default_factory=dict)
    judge_enabled: bool = False


def _check(record: RawRecord, enabled: dict[str, bool], filters) -> FilterOutcome:
    out = FilterOutcome(record=record, verdicts={f.name: "not_reached" for f in filters})
    if record.status != "ok":
        out.stage, out.reason = "failed", (record.error or "failed")
        return out
    if is_truncated(record):
        out.stage, out.reason = "truncated", "finish_reason_length"
        return out
    for f in filters:
        if not enabled.get(f.name, True):
            out.verdicts[f.name] = "off"
            continue
        if not f.applies(record):
            out.verdicts[f.name] = "n/a"
            continue
        reason = f.check(record)
        if reason:
            out.verdicts[f.name] = f"reject:{reason}"
            out.stage, out.reason = f.stage, reason
            return out
        out.verdicts[f.name] = "pass"
    return out


def _relevance(records: list[RawRecord]) -> dict[str, float]:
    """Cosine between each prompt and its reasoning (all turns), with MiniLM; empty when it is not installed."""
    from ..embed.minilm import embed, embedder_available

    if not records or not embedder_available():
        return {}
    prompts = embed([r.request.prompt.text for r in records])
    reasons = embed(["\n".join(t.reasoning or "" for t in r.turns) or " " for r in records])
    return {r.id: round(float(p @ q), 4) for r, p, q in zip(records, prompts, reasons)}


def apply_filters(records: list[RawRecord], settings: FilterSettings, labeler: Labeler) -> list[FilterOutcome]:
    answered = [r for r in records if r.status == "ok" and r.final is not None and not is_truncated(r)]
    labels = labeler(answered)
    need_relevance = settings.enabled.get("consistency", True) and \
        {**DEFAULT_CONSISTENCY, **settings.consistency}["min_reasoning_relevance"]
    relevance = _relevance(answered) if need_relevance else {}
    facts = {r.id: TraceFacts(*labels.get(r.id, (None, None)), relevance=relevance.get(r.id)) for r in answered}
    filters = (StructureFilter(), DegenerationFilter(settings.degeneration), CitationFilter(),
               RefusalFilter(facts), ConsistencyFilter(facts, settings.consistency, settings.judge_enabled),
               CorrectnessFilter())
    outs = [_check(r, settings.enabled, filters) for r in records]
    for o in outs:
        f = facts.get(o.record.id)
        if f is not None:
            o.response_type, o.confidence = f.response_type, f.confidence
    return outs
