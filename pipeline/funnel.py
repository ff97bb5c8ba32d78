"""The funnel: where every prompt and every trace went. Its counts must add up, and the build checks that."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .records import KINDS, STAGES, Trace
from .sources import SourceReport

STAGE_LABELS = {"failed": "failed (teacher error)", "truncated": "truncated (finish_reason=length)",
                "invalid_structure": "invalid structure", "wrong_language": "not English (the checks read English only)",
                "degenerate": "degenerate (loops, repetition)",
                "inconsistent": "inconsistent (decision, protocol, harmful help)", "ungrounded_citation": "cites rules it was not given",
                "wrong_refusal": "wrong refusal behaviour", "wrong_answer": "wrong answer",
                "judge_rejected": "below judge thresholds", "consult_balance": "dropped for consult balance",
                "exact_duplicate": "exact duplicate", "near_duplicate": "near duplicate (MinHash)",
                "semantic_duplicate": "semantic duplicate", "final": "final"}


@dataclass
class Funnel:
    prompts_read: int = 0
    prompts_skipped: dict[str, int] = field(default_factory=dict)
    prompts_not_sampled: int = 0
    prompts_used: int = 0
    modes: list[str] = field(default_factory=list)
    requests: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    by_mode_kind: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    reasons_by_mode_kind: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # "stage:reason"
    consult: dict[str, dict[str, float]] = field(default_factory=dict)   # generated|final -> kind -> rate
    consult_by_category: dict[str, dict[str, float]] = field(default_factory=dict)  # generated|final -> cat
    tool_errors: dict[str, int] = field(default_factory=dict)            # error kind -> calls (all traces)
    categories: dict[str, int] = field(default_factory=dict)             # how prompts got their category
    resampling: dict[str, int] = field(default_factory=dict)             # rejection sampling of reasoning
    final_by_category: dict[str, dict[str, int]] = field(default_factory=dict)   # mode -> category -> rows
    malformed_tool_calls: int = 0

    def check(self) -> list[str]:
        """Arithmetic the funnel must satisfy; an empty list means it adds up."""
        errs = []
        if self.prompts_read != sum(self.prompts_skipped.values()) + self.prompts_not_sampled + self.prompts_used:
            errs.append("prompts: read != skipped + not sampled + used")
        if self.requests != self.prompts_used * len(self.modes):
            errs.append("requests != prompts used x modes")
        if self.requests != sum(self.stages.values()):
            errs.append("requests != sum of stages")
        for stage, n in self.stages.items():
            if stage != "final" and n != sum(self.reasons.get(stage, {}).values()):
                errs.append(f"stage {stage}: count != sum of its reasons")
        cell_total = sum(n for kinds in self.by_mode_kind.values() for st in kinds.values() for n in st.values())
        if cell_total != self.requests:
            errs.append("per mode/kind cells != requests")
        return errs

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def consult_rates(outcomes: list[Trace], by: str = "kind") -> dict[str, float]:
    """Share of adaptive traces that consulted the rules, by prompt kind or category."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        if o.record.request.mode == "adaptive" and o.record.status == "ok":
            p = o.record.request.prompt
            groups[p.kind if by == "kind" else (p.category or "none")].append(o.record.consulted)
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(groups.items()) if v}


def build_funnel(report: SourceReport, modes: list[str], outcomes: list[Trace],
                 categories: dict[str, int] | None = None,
                 resampling: dict[str, int] | None = None) -> Funnel:
    f = Funnel(prompts_read=report.read, prompts_skipped=dict(sorted(report.skipped.items())),
               prompts_not_sampled=report.not_sampled, prompts_used=report.used, modes=list(modes),
               requests=len(outcomes), categories=dict(categories or {}), resampling=dict(resampling or {}))
    stages, reasons = Counter(), defaultdict(Counter)
    cells = {m: {k: Counter() for k in KINDS} for m in modes}
    cell_reasons = {m: {k: Counter() for k in KINDS} for m in modes}
    tool_errors: Counter = Counter()
    for o in outcomes:
        stage, reason = (o.stage, o.reason) if not o.kept else ("final", None)
        mode, kind = o.record.request.mode, o.record.request.prompt.kind
        stages[stage] += 1
        if reason:
            reasons[stage][reason] += 1
            cell_reasons[mode][kind][f"{stage}:{reason}"] += 1
        cells[mode][kind][stage] += 1
        tool_errors.update(t.error for t in o.record.tools if t.error)
    f.malformed_tool_calls = tool_errors.get("malformed_tool_call", 0)
    f.tool_errors = dict(sorted(tool_errors.items()))
    f.stages = {s: stages.get(s, 0) for s in STAGES}
    f.reasons = {s: dict(sorted(c.items())) for s, c in reasons.items()}
    f.by_mode_kind = {m: {k: {s: c.get(s, 0) for s in STAGES} for k, c in kinds.items()} for m, kinds in cells.items()}
    f.reasons_by_mode_kind = {m: {k: dict(sorted(c.items())) for k, c in kinds.items() if c}
                              for m, kinds in cell_reasons.items()}
    final = [o for o in outcomes if o.kept]
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for o in final:
        by_cat[o.record.request.mode][o.record.request.prompt.category or "none"] += 1
    f.final_by_category = {m: dict(sorted(c.items())) for m, c in sorted(by_cat.items())}
    f.consult = {"generated": consult_rates(outcomes), "final": consult_rates(final)}
    f.consult_by_category = {"generated": consult_rates(outcomes, "category"),
                             "final": consult_rates(final, "category")}
    return f


def funnel_table(f: Funnel) -> str:
    """A plain-text funnel for the terminal."""
    lines = [f"{'prompts read':<36}{f.prompts_read:>8}"]
    for reason, n in f.prompts_skipped.items():
        lines.append(f"{'  skipped: ' + reason:<36}{-n:>8}")
    if f.prompts_not_sampled:
        lines.append(f"{'  not sampled':<36}{-f.prompts_not_sampled:>8}")
    lines.append(f"{'prompts used':<36}{f.prompts_used:>8}")
    lines.append(f"{'traces requested (x ' + str(len(f.modes)) + ' modes)':<36}{f.requests:>8}")
    for s in STAGES[:-1]:
        lines.append(f"{'  ' + STAGE_LABELS[s]:<36}{-f.stages[s]:>8}")
        for reason, n in f.reasons.get(s, {}).items():
            lines.append(f"{'      ' + reason:<36}{n:>8}")
    lines.append(f"{'final rows':<36}{f.stages['final']:>8}")
    if f.tool_errors:
        lines.append("tool calls answered with an error: " + ", ".join(f"{k} {v}" for k, v in f.tool_errors.items()))
    for when in ("generated", "final"):
        if f.consult.get(when):
            lines.append(f"consult rate ({when}): " + ", ".join(f"{k} {v:.2f}" for k, v in f.consult[when].items()))
    if f.consult_by_category.get("final"):
        lines.append("consult rate by category (final): " +
                     ", ".join(f"{k} {v:.2f}" for k, v in f.consult_by_category["final"].items()))
    lines.append("final rows by mode and kind: " + "; ".join(
        f"{m} " + ", ".join(f"{k} {st['final']}/{sum(st.values())}" for k, st in kinds.items())
        for m, kinds in f.by_mode_kind.items()))
    for m, kinds in f.reasons_by_mode_kind.items():
        for k, reasons in kinds.items():
            lines.append(f"  {m}/{k} rejected: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))
    return "\n".join(lines)
