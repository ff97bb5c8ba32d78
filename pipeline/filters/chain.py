"""Run the filters in funnel order. The first rejection decides a record's stage; every record keeps a
verdict per filter (pass, reject:<reason>, n/a, off, or not_reached)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..records import RawRecord
from .citations import CitationFilter
from .correctness import CorrectnessFilter
from .refusal import RefusalFilter
from .refusal_classifier import classify_response
from .structure import StructureFilter, is_truncated

FILTER_NAMES = ("structure", "citations", "refusal", "correctness")


@dataclass
class FilterOutcome:
    record: RawRecord
    verdicts: dict[str, str] = field(default_factory=dict)
    stage: str | None = None        # funnel stage of the rejection; None when kept
    reason: str | None = None
    response_type: str | None = None   # comply | refuse | safe_complete, from the recipe's classifier

    @property
    def kept(self) -> bool:
        return self.stage is None


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


def apply_filters(records: list[RawRecord], enabled: dict[str, bool],
                  labels: dict[str, str | None] | None = None) -> list[FilterOutcome]:
    """`labels` (record id -> comply/refuse/safe_complete, None when the judge failed) replace the phrase
    classifier when the recipe uses the LLM variant."""
    # Each answer is labelled once: the refusal filter and the row's response_type read the same label.
    types = {r.id: (labels.get(r.id) if labels is not None else classify_response(r.final.answer or ""))
             for r in records if r.status == "ok" and r.final is not None}
    filters = (StructureFilter(), CitationFilter(), RefusalFilter(types), CorrectnessFilter())
    outs = [_check(r, enabled, filters) for r in records]
    for o in outs:
        o.response_type = types.get(o.record.id)
    return outs
