"""`ascl report BUILD`: one self-contained HTML file to look at a build instead of reading tables.

It opens with the funnel and the build's figures (embedded as data URIs, so the file can be mailed or attached
to a review), then, for each mode x prompt kind, a few kept traces and a few rejects per reason, rendered as
conversations: reasoning folded, tool calls and the rules they returned visible, every cited rule id linked to
the rule as the teacher was given it. Traces are picked by id order, so the same build gives the same report.

Everything comes from the published build (metrics.json, the shards, rejects/, provenance/teacher_context.parquet,
figures/); the report never needs the recipe, the cache or the rule-book file."""
from __future__ import annotations

import base64
import html
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from ..funnel import STAGE_LABELS, STAGES
from ..publish.rows import training_messages
from ..records import KINDS, MODES, RULE_ID, GenerationRecord, Trace
from .figures import CAPTIONS

_RULE_LINE = re.compile(r"^\s*\[([a-z][a-z0-9_]*\.[0-9]+)\]\s*(.+?)\s*$", re.MULTILINE)

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
header{background:#1f3b57;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;opacity:.85}nav{padding:8px 28px;background:#e9edf2;position:sticky;top:0;z-index:2}
nav a{margin-right:14px;color:#1f3b57;text-decoration:none;font-weight:600}main{padding:8px 28px 60px;max-width:1250px}
h2{border-bottom:2px solid #d5dbe3;padding-bottom:4px;margin-top:34px}h3{margin:26px 0 8px}h4{margin:16px 0 6px;color:#8a2a2a}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d5dbe3;padding:3px 9px;text-align:left}
th{background:#eef1f5}td.n{text-align:right}figure{margin:14px 0;background:#fff;padding:8px;border:1px solid #e0e4ea}
figure img{max-width:100%}.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
.figs figure{margin:0}figcaption{color:#55606d;font-size:13px}
.trace{background:#fff;border:1px solid #d9dee5;border-radius:6px;margin:10px 0;padding:10px 14px}
.trace.rejected{border-left:5px solid #c44e52}.trace.kept{border-left:5px solid #55a868}
.meta{font-size:12px;color:#55606d;margin-bottom:6px}.meta b{color:#1d232b}
.msg{margin:6px 0;padding:6px 10px;border-radius:5px;white-space:pre-wrap;word-wrap:break-word}
.user{background:#eef3fb}.assistant{background:#f4f8f1}.tool{background:#fbf6ea;font-family:ui-monospace,monospace;font-size:13px}
.role{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#6b7683;display:block}
details.reasoning{margin:4px 0 6px;background:#fafafa;border:1px dashed #c9cfd8;border-radius:4px;padding:2px 8px}
details.reasoning summary{cursor:pointer;color:#55606d;font-size:13px}.call{font-family:ui-monospace,monospace;font-size:13px;color:#7a4b00}
a.rule{color:#1f5fa8;font-weight:600;text-decoration:none}a.rule:hover{text-decoration:underline}
dl.rules dt{font-weight:700;margin-top:8px}dl.rules dd{margin:2px 0 0 18px}.empty{color:#8a939e;font-style:italic}
button{margin:6px 0;padding:4px 10px}
"""

_JS = """
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  document.body.dataset.imagesLoaded = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var links = Array.from(document.querySelectorAll('a.rule'));
  document.body.dataset.brokenRuleLinks = links.filter(function (a) {
    return !document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
  }).length;
  var tops = {};
  document.querySelectorAll('section[id]').forEach(function (s) { tops[s.id] = Math.round(s.getBoundingClientRect().top + window.scrollY); });
  document.body.dataset.sectionTops = JSON.stringify(tops);
  document.body.dataset.ready = 'yes';
});
function toggleReasoning(open) {
  document.querySelectorAll('details.reasoning').forEach(function (d) { d.open = open; });
}
"""


def _esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def _linked(text: str | None, known: set[str]) -> str:
    """Escaped text with every rule id the rule book section holds turned into a link to it."""
    def link(m: re.Match) -> str:
        rid = m.group(1)
        return f'<a class="rule" href="#rule-{rid}">[{rid}]</a>' if rid in known else m.group(0)
    return RULE_ID.sub(link, _esc(text))


def _messages_html(messages: list[dict[str, Any]], known: set[str]) -> str:
    out = []
    for m in messages:
        role = m["role"]
        body = ""
        if m.get("reasoning_content"):
            words = len(m["reasoning_content"].split())
            body += (f'<details class="reasoning"><summary>reasoning ({words} words)</summary>'
                     f'{_linked(m["reasoning_content"], known)}</details>')
        for call in m.get("tool_calls") or []:
            fn = call["function"]
            body += f'<div class="call">calls {_esc(fn["name"])}({_esc(fn["arguments"])})</div>'
        if m.get("content"):
            body += _linked(m["content"], known)
        elif role == "assistant" and not m.get("tool_calls"):
            body += '<span class="empty">(empty answer)</span>'
        label = "tool result: rules returned" if role == "tool" else role
        out.append(f'<div class="msg {role}"><span class="role">{_esc(label)}</span>{body}</div>')
    return "\n".join(out)


def _trace_html(t: dict[str, Any], known: set[str]) -> str:
    kept = t["stage"] is None
    facts = [("id", t["id"][:12]), ("mode", t["mode"]), ("kind", t["kind"]), ("category", t.get("category")),
             ("response type", t.get("response_type")), ("consulted rules", t.get("consulted"))]
    if not kept:
        facts = [("rejected at", STAGE_LABELS.get(t["stage"], t["stage"])), ("reason", t["reason"])] + facts
    meta = " · ".join(f"{k}: <b>{_esc(v)}</b>" for k, v in facts if v is not None)
    output = ""
    if t.get("teacher_output"):
        output = ('<details class="reasoning"><summary>the teacher\'s output as written</summary>'
                  + "\n<hr>\n".join(_esc(x) for x in t["teacher_output"]) + "</details>")
    cls = "kept" if kept else "rejected"
    return (f'<article class="trace {cls}" data-mode="{_esc(t["mode"])}" data-kind="{_esc(t["kind"])}" '
            f'data-id="{_esc(t["id"])}"><div class="meta">{meta}</div>{_messages_html(t["messages"], known)}'
            f"{output}</article>")


def _kept(build_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for p in sorted((build_dir / "data").glob("*.parquet")):
        for r in pq.read_table(p).to_pylist():
            rows.append({"id": r["id"], "mode": r["mode"], "kind": r["prompt_kind"], "category": r["category"],
                         "response_type": r["response_type"], "consulted": r["consulted_rules"]
                         if r["mode"] == "adaptive" else None, "stage": None, "reason": None,
                         "messages": r["messages"]})
    return sorted(rows, key=lambda r: r["id"])


def _rejects(build_dir: Path) -> list[dict[str, Any]]:
    out = []
    for r in pq.read_table(build_dir / "rejects" / "rejects.parquet").to_pylist():
        rec = GenerationRecord.from_dict(json.loads(r["record"]))
        trace = Trace(record=rec)
        messages = training_messages(trace) if rec.turns else \
            [{"role": "user", "content": rec.request.prompt.text}]
        out.append({"id": r["id"], "mode": r["mode"], "kind": r["prompt_kind"], "category": rec.request.prompt.category,
                    "response_type": None, "consulted": rec.consulted if rec.request.mode == "adaptive" else None,
                    "stage": r["stage"], "reason": r["reason"] or rec.error, "messages": messages,
                    "teacher_output": [t.text for t in rec.turns] or ([f"error: {rec.error}"] if rec.error else [])})
    return sorted(out, key=lambda r: r["id"])


def _rules(build_dir: Path) -> dict[str, str]:
    """Rule id -> text, as the teachers were given them (explicit system prompts and tool results)."""
    rules: dict[str, str] = {}
    table = build_dir / "provenance" / "teacher_context.parquet"
    if not table.exists():   # a build published before the provenance table was renamed
        table = build_dir / "raw" / "teacher_context.parquet"
    for r in pq.read_table(table, columns=["teacher_messages"]).to_pylist():
        for m in json.loads(r["teacher_messages"]):
            for rid, text in _RULE_LINE.findall(str(m.get("content") or "")):
                rules.setdefault(rid, text)
    return dict(sorted(rules.items()))


def _figures_html(build_dir: Path, manifest: dict[str, Any]) -> str:
    out = []
    order = {name: i for i, name in enumerate(CAPTIONS)}
    pngs = [f for f in manifest["files"] if f.startswith("figures/") and f.endswith(".png")]
    for rel in sorted(pngs, key=lambda f: (order.get(Path(f).name, len(order)), f)):
        data = base64.b64encode((build_dir / rel).read_bytes()).decode()
        caption = CAPTIONS.get(Path(rel).name, Path(rel).name)
        out.append(f'<figure id="fig-{_esc(Path(rel).stem)}"><img alt="{_esc(caption)}" '
                   f'src="data:image/png;base64,{data}"><figcaption>{_esc(caption)}</figcaption></figure>')
    return f'<div class="figs">{"".join(out)}</div>' if out else '<p class="empty">This build has no figures.</p>'


def _funnel_html(funnel: dict[str, Any]) -> str:
    rows = [f"<tr><td>traces requested</td><td class=n>{funnel['requests']}</td></tr>"]
    for s in STAGES:
        n = funnel["stages"].get(s, 0)
        rows.append(f"<tr><td>{_esc(STAGE_LABELS[s])}</td><td class=n>{'-' if s != 'final' and n else ''}{n}</td></tr>")
        for reason, k in funnel["reasons"].get(s, {}).items():
            rows.append(f"<tr><td>&nbsp;&nbsp;&nbsp;{_esc(reason)}</td><td class=n>{k}</td></tr>")
    return "<table><tr><th>stage</th><th>traces</th></tr>" + "".join(rows) + "</table>"


def render_report(build_dir: str | Path, kept_per_cell: int = 3, rejects_per_reason: int = 2) -> str:
    d = Path(build_dir)
    # A build that kept nothing leaves an unpublished folder (rejects, funnel, figures, lock; no manifest).
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8")) if (d / "manifest.json").exists() \
        else {"files": sorted(p.relative_to(d).as_posix() for p in (d / "figures").glob("*.png"))}
    metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    lock = yaml.safe_load((d / "recipe.lock.yaml").read_text(encoding="utf-8"))
    funnel = metrics["funnel"]
    build_id = manifest.get("build_id") or lock.get("build_id", d.name)
    unpublished = "" if (d / "manifest.json").exists() else \
        "<p><strong>Not published:</strong> the build kept no rows; these are its rejects.</p>"
    rules = _rules(d)
    known = set(rules)
    kept, rejects = _kept(d), _rejects(d)
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"kept": [], "rejects": defaultdict(list)})
    for t in kept:
        cells[(t["mode"], t["kind"])]["kept"].append(t)
    for t in rejects:
        cells[(t["mode"], t["kind"])]["rejects"][f"{t['stage']}: {t['reason']}"].append(t)
    order = [(m, k) for m in MODES for k in KINDS if (m, k) in cells]
    sections = []
    for m, k in order:
        cell = cells[(m, k)]
        n_rej = sum(len(v) for v in cell["rejects"].values())
        part = [f'<section class="cell" id="cell-{m}-{k}"><h3>{_esc(m)} × {_esc(k)}: {len(cell["kept"])} kept, '
                f'{n_rej} rejected</h3>', f"<h4 style='color:#2d6a3e'>kept (first {kept_per_cell} by id)</h4>"]
        part += [_trace_html(t, known) for t in cell["kept"][:kept_per_cell]] or \
            ['<p class="empty">No kept traces.</p>']
        for reason, ts in sorted(cell["rejects"].items(), key=lambda x: (-len(x[1]), x[0])):
            part.append(f'<h4 class="reason">rejected: {_esc(reason)} ({len(ts)})</h4>')
            part += [_trace_html(t, known) for t in ts[:rejects_per_reason]]
        sections.append("\n".join(part) + "</section>")
    rule_items = "".join(f'<dt id="rule-{_esc(rid)}">[{_esc(rid)}]</dt><dd>{_esc(text)}</dd>'
                         for rid, text in rules.items())
    teacher = (lock.get("teacher") or {})
    name = (lock.get("recipe") or {}).get("name", d.parent.name)
    nav = "".join(f'<a href="#cell-{m}-{k}">{m}/{k}</a>' for m, k in order)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(name)}: build {_esc(build_id)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style><script>{_JS}</script></head>
<body><header><h1>{_esc(name)}</h1>
<p>build <code>{_esc(build_id)}</code> · teacher {_esc(teacher.get('model'))}
({_esc(teacher.get('engine'))}) · {funnel['stages'].get('final', 0)} of {funnel['requests']} traces kept</p>
{unpublished}</header>
<nav><a href="#funnel">Funnel</a><a href="#figures">Figures</a><a href="#traces">Traces</a>{nav}<a href="#rules">Rules</a></nav>
<main>
<section id="funnel"><h2>Funnel</h2>{_funnel_html(funnel)}</section>
<section id="figures"><h2>Figures</h2>{_figures_html(d, manifest)}</section>
<section id="traces"><h2>Traces by mode and prompt kind</h2>
<p>Up to {kept_per_cell} kept traces per mode × kind and {rejects_per_reason} rejects per reason. Reasoning is folded;
<button onclick="toggleReasoning(true)">expand all reasoning</button>
<button onclick="toggleReasoning(false)">fold all</button></p>
{''.join(sections) or '<p class="empty">No traces.</p>'}</section>
<section id="rules"><h2>Rules as the teachers were given them</h2>
{f'<dl class="rules">{rule_items}</dl>' if rule_items else '<p class="empty">No rules were given in this build.</p>'}
</section></main></body></html>
"""


def write_report(build_dir: str | Path, out: str | Path | None = None, **kw: int) -> Path:
    """Write the report (default: `<build id>.report.html` beside the build folder, so the build itself stays
    exactly what its manifest lists) and return its path."""
    from ..util.atomic import write_text

    d = Path(build_dir)
    path = Path(out) if out else d.parent / f"{d.name}.report.html"
    write_text(path, render_report(d, **kw))
    return path
