"""The build's figures: what the funnel kept and dropped, how often adaptive traces consulted the rules, how long
traces are, and what the judge scored. `figure_data` reduces a build to plain numbers (kept in metrics.json, so
figures can be redrawn without the traces); `render` draws them as PNGs.

Rendering is deterministic (matplotlib's Agg canvas, its bundled font, no timestamp or version in the PNG
metadata), so a rebuild from the same cache publishes byte-identical figures. matplotlib is imported lazily:
only publishing needs it."""
from __future__ import annotations

import io
from collections import Counter
from typing import Any

from ..funnel import STAGE_LABELS, STAGES, Funnel
from ..records import MODES, Trace

RUBRIC = ("safety", "rule_relevance", "reasoning")
_COLOURS = {"explicit": "#4C72B0", "adaptive": "#DD8452", "generated": "#9DB4D3", "final": "#2E5A88"}


def figure_data(funnel: Funnel, traces: list[Trace]) -> dict[str, Any]:
    """Everything the figures show, as JSON-able numbers."""
    left, remaining = [], funnel.requests
    for s in STAGES[:-1]:
        remaining -= funnel.stages.get(s, 0)
        left.append([STAGE_LABELS[s], remaining])
    reasons = Counter({f"{s}: {r}": n for s, rs in funnel.reasons.items() for r, n in rs.items()})
    by_mode: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        recs = [t for t in traces if t.record.request.mode == mode]
        if not recs:
            continue
        by_mode[mode] = {
            "turns": dict(sorted(Counter(len(t.record.turns) for t in recs).items())),
            "completion_tokens": sorted(sum(x.completion_tokens for x in t.record.turns) for t in recs),
            "kept_completion_tokens": sorted(sum(x.completion_tokens for x in t.record.turns) for t in recs if t.kept),
        }
    judge = {item: dict(sorted(Counter(int(t.judge[item]) for t in traces
                                       if t.judge and isinstance(t.judge.get(item), (int, float))).items()))
             for item in RUBRIC}
    return {"funnel": [["requested", funnel.requests]] + left,
            "rejects_by_reason": [[r, n] for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))],
            "consult_by_kind": {k: dict(v) for k, v in funnel.consult.items()},
            "consult_by_category": {k: dict(v) for k, v in funnel.consult_by_category.items()},
            "by_mode": by_mode,
            "judge": judge if any(judge.values()) else None}


def _new(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight")
    return buf.getvalue()


def _funnel(d: dict) -> bytes:
    rows = d["funnel"]
    fig = _new(8, 0.32 * len(rows) + 1.2)
    ax = fig.add_subplot()
    ax.barh(range(len(rows)), [n for _, n in rows], color=_COLOURS["final"])
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    for i, (_, n) in enumerate(rows):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    ax.set_xlabel("traces left after each stage")
    ax.set_title("Funnel")
    return _png(fig)


def _rejects(d: dict, top: int = 20) -> bytes:
    rows = d["rejects_by_reason"][:top] or [["(no rejects)", 0]]
    fig = _new(8, 0.3 * len(rows) + 1.2)
    ax = fig.add_subplot()
    ax.barh(range(len(rows)), [n for _, n in rows], color="#C44E52")
    ax.set_yticks(range(len(rows)), [r for r, _ in rows], fontsize=8)
    ax.invert_yaxis()
    for i, (_, n) in enumerate(rows):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    ax.set_xlabel("traces")
    more = len(d["rejects_by_reason"]) - top
    ax.set_title("Rejects by stage: reason" + (f" (top {top}; {more} more reasons)" if more > 0 else ""))
    return _png(fig)


def _rate_panel(ax, rates: dict[str, dict[str, float]], title: str) -> None:
    names = sorted(set(rates.get("generated", {})) | set(rates.get("final", {})))
    width = 0.4
    for j, which in enumerate(("generated", "final")):
        ax.bar([i + (j - 0.5) * width for i in range(len(names))],
               [float(rates.get(which, {}).get(n) or 0.0) for n in names], width, label=which,
               color=_COLOURS[which])
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share that consulted the rules")
    ax.set_title(title)
    if not names:
        ax.text(0.5, 0.5, "no adaptive traces", ha="center", va="center", transform=ax.transAxes)
    ax.legend(fontsize=8)


def _consult(d: dict) -> bytes:
    fig = _new(11, 4)
    a, b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.5]})
    _rate_panel(a, d["consult_by_kind"], "Consult rate by prompt kind")
    _rate_panel(b, d["consult_by_category"], "Consult rate by category")
    return _png(fig)


def _lengths(d: dict) -> bytes:
    fig = _new(11, 4)
    a, b = fig.subplots(1, 2)
    modes = list(d["by_mode"])
    turns = sorted({t for m in modes for t in map(int, d["by_mode"][m]["turns"])}) or [1]
    width = 0.8 / max(1, len(modes))
    import numpy as np

    every = [n for m in modes for n in d["by_mode"][m]["completion_tokens"]] or [0]
    bins = np.histogram_bin_edges(every, bins=20)   # one set of bins, so the modes compare bar for bar
    for j, m in enumerate(modes):
        counts = {int(k): v for k, v in d["by_mode"][m]["turns"].items()}
        a.bar([t + (j - (len(modes) - 1) / 2) * width for t in turns], [counts.get(t, 0) for t in turns], width,
              label=m, color=_COLOURS.get(m))
        b.hist(d["by_mode"][m]["completion_tokens"], bins=bins, alpha=0.45, label=f"{m}: all traces",
               color=_COLOURS.get(m))
        if d["by_mode"][m]["kept_completion_tokens"]:
            b.hist(d["by_mode"][m]["kept_completion_tokens"], bins=bins, histtype="step", linewidth=2,
                   label=f"{m}: kept", color=_COLOURS.get(m))
    a.set_xticks(turns)
    a.set_xlabel("assistant turns per trace")
    a.set_ylabel("traces")
    a.set_title("Turns per trace, by mode")
    b.set_xlabel("completion tokens per trace (all turns)")
    b.set_ylabel("traces")
    b.set_title("Trace length, by mode")
    for ax in (a, b):
        if modes:
            ax.legend(fontsize=8)
    return _png(fig)


def _judge(d: dict) -> bytes:
    fig = _new(11, 3.5)
    axes = fig.subplots(1, len(RUBRIC))
    for ax, item in zip(axes, RUBRIC):
        counts = {int(k): v for k, v in (d["judge"].get(item) or {}).items()}
        ax.bar(range(1, 6), [counts.get(s, 0) for s in range(1, 6)], color="#55A868")
        ax.set_xticks(range(1, 6))
        ax.set_xlabel("score")
        ax.set_title(f"judge: {item}")
    axes[0].set_ylabel("traces")
    return _png(fig)


def render(d: dict[str, Any]) -> dict[str, bytes]:
    """PNG bytes by file name (figures/<name>); the judge figure only when a judge scored traces."""
    out = {"funnel.png": _funnel(d), "rejects_by_reason.png": _rejects(d), "consult_rate.png": _consult(d),
           "lengths.png": _lengths(d)}
    if d.get("judge"):
        out["judge_scores.png"] = _judge(d)
    return out


CAPTIONS = {"funnel.png": "Traces left after each filter stage",
            "rejects_by_reason.png": "Rejected traces by stage and reason",
            "consult_rate.png": "How often adaptive traces consulted the rules, by prompt kind and by category",
            "lengths.png": "Turns and completion tokens per trace, by mode",
            "judge_scores.png": "LLM judge scores per rubric item"}
