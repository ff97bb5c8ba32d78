"""The dataset card (README.md): huggingface_hub DatasetCardData for the YAML header, then what the dataset
is, how it was made, the funnel, counts per mode and kind, consult rates and the teacher's honest limits."""
from __future__ import annotations

import json
from typing import Any

from ..funnel import STAGE_LABELS, STAGES, Funnel


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def render_card(*, name: str, description: str, funnel: Funnel, publish: dict[str, Any], teacher: dict[str, Any],
                sampling: dict[str, Any], guard: dict[str, Any], rulebook: dict[str, Any], recipe_hash: str,
                build_id: str, generation: dict[str, Any], dedupe: dict[str, Any], shard_files: dict[str, list[str]],
                quality: dict[str, Any] | None = None, figures: dict[str, str] | None = None) -> str:
    from huggingface_hub import DatasetCard, DatasetCardData

    final = funnel.stages["final"]
    data = DatasetCardData(
        pretty_name=name, license=publish["license"], language=publish["language"],
        task_categories=["text-generation"], size_categories=[_size_category(final)],
        tags=["safety", "alignment", "chain-of-thought", "tool-use", "ascl", *publish.get("tags", [])],
        configs=[{"config_name": "default",
                  "data_files": [{"split": split, "path": f"data/{split}-*.parquet"} for split in shard_files]}],
    )
    kept_pct = 100.0 * final / funnel.requests if funnel.requests else 0.0
    funnel_rows = [["traces requested", funnel.requests]] + \
                  [[STAGE_LABELS[s], (f"-{funnel.stages[s]}" if s != "final" and funnel.stages[s] else funnel.stages[s])]
                   for s in STAGES]
    reason_rows = [[STAGE_LABELS[s], r, n] for s in STAGES for r, n in funnel.reasons.get(s, {}).items()]
    cell_rows = [[m, k, sum(st.values()), st["final"]] + [st[s] for s in STAGES[:-1]]
                 for m, kinds in funnel.by_mode_kind.items() for k, st in kinds.items()]
    consult_rows = [[k, funnel.consult["generated"].get(k, "-"), funnel.consult["final"].get(k, "-")]
                    for k in ("harmful", "benign", "reasoning")]
    skipped = ", ".join(f"{r}: {n}" for r, n in funnel.prompts_skipped.items()) or "none"
    quality = quality or {}
    cell_reason_rows = [[m, k, r, n] for m, kinds in funnel.reasons_by_mode_kind.items()
                        for k, reasons in kinds.items() for r, n in reasons.items()]
    cat_rows = [[c, funnel.consult_by_category.get("generated", {}).get(c, "-"),
                 funnel.consult_by_category.get("final", {}).get(c, "-")]
                for c in funnel.consult_by_category.get("generated", {})]
    token_rows = [[m, k, c["traces"], c["kept"], c["keep_rate"], c["completion_tokens"], c["tokens_per_kept"] or "-"]
                  for m, kinds in quality.get("tokens", {}).items() for k, c in kinds.items()]
    tool_errors = ", ".join(f"{k}: {v}" for k, v in funnel.tool_errors.items()) or "none"
    categories = ", ".join(f"{k}: {v}" for k, v in funnel.categories.items()) or "-"
    judge = quality.get("judge", {})
    cat_names = sorted({c for cats in funnel.final_by_category.values() for c in cats})
    final_cat_rows = [[c] + [funnel.final_by_category.get(m, {}).get(c, 0) for m in funnel.modes] for c in cat_names]
    body = f"""
# {name}

{description or "Safety-alignment chain-of-thought traces built with the ASCL data pipeline."}

Two trace styles from one prompt pool:
- **explicit** (context distillation): the teacher saw its category's rules in the system prompt; the row keeps
  only the user prompt and the assistant's reasoning and answer.
- **adaptive** (adaptive safe context): the teacher was offered the `consult_safety_rules` tool and chose whether to
  call it; the row keeps the whole conversation (tool calls and tool results) and a `consulted_rules` flag.

Assistant reasoning is in each assistant message's `reasoning_content`; `content` holds the visible answer.
Adaptive rows carry the offered tool schema as JSON in `tools`.

## Funnel

{_figures(figures)}{kept_pct:.1f}% of requested traces made it into the dataset ({final} of {funnel.requests}); the rest are in
`rejects/` with their reasons. Prompts read: {funnel.prompts_read}; skipped: {skipped}; used: {funnel.prompts_used}.

{_table(["stage", "traces"], funnel_rows)}

### Rejections by reason

{_table(["stage", "reason", "traces"], reason_rows) if reason_rows else "None."}

### Per mode and prompt kind

{_table(["mode", "kind", "requested", "final"] + [STAGE_LABELS[s] for s in STAGES[:-1]], cell_rows)}

### Final rows per category

{_table(["category"] + list(funnel.modes), final_cat_rows) if final_cat_rows else "No rows."}

### Rejections by reason, per mode and prompt kind

{_table(["mode", "kind", "stage:reason", "traces"], cell_reason_rows) if cell_reason_rows else "None."}

### Rule consultation (adaptive mode)

Share of adaptive traces that consulted the rules (a `consult_safety_rules` call that returned rules), per prompt
kind and per category, before the filters (generated) and in the dataset (final). Tool calls answered with an
error (the trace was kept or rejected on what followed): {tool_errors}. Consult-balance drops:
{json.dumps(quality.get("consult_balance_drops", {}))}. Free-text queries answered by
{quality.get("retrieval", "-")} retrieval.

{_table(["kind", "generated", "final"], consult_rows)}

{_table(["category", "generated", "final"], cat_rows) if cat_rows else ""}

### Cost per kept row

{_table(["mode", "kind", "traces", "kept", "keep rate", "completion tokens", "tokens per kept row"], token_rows)
 if token_rows else "-"}

### Quality checks

- Response-type classifier (comply / refuse / safe_complete): `{json.dumps(quality.get("refusal_classifier", {}))}`.
- Partial completions of harmful prompts: {quality.get("harmful_partial_kept", "-")}.
- Answers to sensitive prompts: {quality.get("sensitive_content", "-")}.
- Refusals of harmful prompts: {quality.get("harmful_refusals", "-")}.
- Degeneration (loops) and consistency checks (protocol text, decision vs answer vs kind, harmful help after a
  refusal or in the reasoning, off-topic reasoning): `{json.dumps(quality.get("consistency", {}))}`.
- Prompt categories: {categories}.
- Rejection sampling (most samples per prompt and mode, by kind; a sample is kept only if it passes every filter):
  {_sampling(quality.get("rejection_sampling"), funnel.resampling)}.
- LLM judge: {json.dumps(judge) if judge else "off"}.
- Cost: {cost_text(quality.get("cost"))}.

## How it was made

| | |
|---|---|
| build id | `{build_id}` |
| recipe sha256 | `{recipe_hash}` |
| teacher model | `{teacher.get("model")}` |
| teacher revision | `{teacher.get("revision")}` |
| engine | {teacher.get("engine")} {teacher.get("engine_version")} |
| sampling | `{json.dumps(sampling)}` |
| format guard | {"on: `" + json.dumps(guard) + "`" if guard.get("enabled") else "off"} |
| rule book | {rulebook["name"]} v{rulebook["version"]} (sha256 `{rulebook["sha256"]}`) |
| dedupe | `{json.dumps(dedupe)}` |
| generation (this run) | {generation["generated"]} traces asked of the teacher ({generation["failed"]} failed, {generation["retries"]} retries), {generation["cached"]} from the resume cache; {generation["prompt_tokens"]} prompt + {generation["completion_tokens"]} completion tokens; {generation["tokens_per_second"]} tok/s over {generation["wall_seconds"]} s |

The locked recipe is `recipe.lock.yaml`; `manifest.json` holds the sha256 of every file. Shards:
{", ".join(f"`{s}`" for files in shard_files.values() for s in files)}.

## Intended use and limitations

For supervised fine-tuning of reasoning models on safety behaviour and for research on adaptive rule
consultation. Rows passed automatic filters only (structure, degeneration, rule citations, a response-type
classifier, consistency, numeric answer match and, when on, an LLM judge); no human reviewed them. A format guard, when on, forces the trace *shape* with constrained decoding; it
does not make the content right. A small teacher writes fluent but often wrong or unhelpful text: read the funnel
above before training on this data.

## Loading

```python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="data/train-*.parquet", split="train")
```
"""
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}"))


def _figures(figures: dict[str, str] | None) -> str:
    """The build's figures (figures/<name> -> caption), shown at the top of the funnel section."""
    if not figures:
        return ""
    return "\n\n".join(f"![{caption}](figures/{name})" for name, caption in figures.items()) + "\n\n"


def _sampling(per_kind: dict | None, done: dict) -> str:
    if not per_kind:
        return "off (one sample per prompt and mode)"
    return (", ".join(f"{k} {n}" for k, n in sorted(per_kind.items())) +
            f"; {done.get('extra_samples', 0)} extra samples drawn, {done.get('rescued', 0)} prompt x mode pairs "
            "kept a later sample")


def cost_text(cost: dict | None) -> str:
    """The cost line of the card and the terminal: this run by phase, and the whole dataset across runs."""
    if not cost or not cost.get("prices"):
        return "not counted (no prices in the recipe: teacher.price)"
    now, ever = cost["this_run"], cost["all_runs"]
    parts = ", ".join(f"{k} ${now[k]:.4f}" for k in ("generation", "resampling", "judge"))
    limit = f"; limit ${cost['max_cost_usd']:g}" if cost.get("max_cost_usd") else ""
    return (f"this run ${now['total']:.4f} ({parts}; tokens served from the caches cost nothing in this run{limit}); "
            f"the whole dataset cost ${ever['total']:.4f} to generate across all runs that fed it")
