"""Run the filters in funnel order. The first rejection decides a record's stage; every record keeps a
verdict per filter (pass, reject:<reason>, n/a, off, or not_reached).

Facts that need a model are computed once per batch and shared: the answer's response type and confidence before
any filter runs (the refusal filter, the consistency filter and the published row all read the same label); the
prompt-reasoning similarities and the paragraph probabilities, which only the consistency check reads, for the
traces that reach it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..recipe.model import DEFAULT_CONSISTENCY, FILTER_NAMES  # noqa: F401  (FILTER_NAMES re-exported)
from ..records import GenerationRecord, Trace
from .citations import CitationFilter
from .consistency import ConsistencyFilter, TraceFacts
from .answers import answers_match
from .correctness import CorrectnessFilter
from .degeneration import DegenerationFilter
from .language import LanguageFilter
from .refusal import RefusalFilter
from .refusal_classifier import analyse
from .structure import StructureFilter, is_truncated

# record id -> (label, confidence, probability of comply); label None where an LLM label could not be had, the
# numbers None where the label did not come from the learned model (see labels.Labeller)
Labeler = Callable[[list[GenerationRecord]], dict[str, tuple[str | None, float | None, float | None]]]


@dataclass(frozen=True)
class FilterSettings:
    enabled: dict[str, bool] = field(default_factory=dict)
    degeneration: dict | None = None
    consistency: dict = field(default_factory=dict)
    judge_enabled: bool = False
    allow_cut_reasoning: bool = False   # format_guard.allow_cut_reasoning
    refusal_gate: dict = field(default_factory=dict)   # refusal_classifier: min_comply_probability, ...
    # `ascl audit --answers-only`: a trace may have no reasoning (reasoning None, as the audit reads answer-only
    # rows); the structure check lets it through and the reasoning's checks have nothing to read. Never in a build:
    # a training trace without reasoning is no chain-of-thought trace.
    answers_only: bool = False


def _check(record: GenerationRecord, enabled: dict[str, bool], filters, upto: int | None = None) -> Trace:
    """The record's verdicts from the filters, in order, up to (not including) `upto`; see _go_on."""
    out = Trace(record=record, verdicts={f.name: "not_reached" for f in filters})
    if record.status != "ok":
        out.reject("failed", record.error or "failed")
        return out
    if is_truncated(record):
        out.reject("truncated", "finish_reason_length")
        return out
    return _go_on(out, enabled, filters[:upto])


def _go_on(out: Trace, enabled: dict[str, bool], filters) -> Trace:
    """Run `filters` on a trace not yet rejected; the first rejection ends it."""
    record = out.record
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
            out.reject(f.stage, reason)
            return out
        out.verdicts[f.name] = "pass"
    return out


def _relevance(records: list[GenerationRecord]) -> tuple[dict[str, float], dict[str, float]]:
    """MiniLM cosines between each prompt and (1) its reasoning, all turns, (2) its answer without refusal and
    courtesy lines, where 15+ words remain. Both empty when MiniLM is not installed."""
    from ..embed.minilm import embedder_available

    if not records or not embedder_available():
        return {}, {}
    prompts = _embed_unique([r.request.prompt.text for r in records])
    reasons = _embed_unique(["\n".join(t.reasoning or "" for t in r.turns) or " " for r in records])
    reasoning = {r.id: round(float(p @ q), 4) for r, p, q in zip(records, prompts, reasons)
                 if any(t.reasoning for t in r.turns)}     # no reasoning (an answer-only audit): nothing to relate
    tails = {i: t for i, r in enumerate(records)
             if len((t := " ".join(answer_sentences(r.final.answer or ""))).split()) >= 15}
    answer = {}
    if tails:
        emb = _embed_unique(list(tails.values()))
        answer = {records[i].id: round(float(prompts[i] @ e), 4) for i, e in zip(tails, emb)}
    return reasoning, answer


def _embed_unique(texts: list[str]):
    """MiniLM embeddings of `texts`, each distinct text embedded once: a build asks every prompt in two modes and
    resamples it, so most prompt texts come several times."""
    from ..embed.minilm import embed

    distinct = list(dict.fromkeys(texts))
    rows = embed(distinct)
    where = {t: i for i, t in enumerate(distinct)}
    return rows[[where[t] for t in texts]]


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences of 4+ words that are not a refusal or courtesy line (their topic is not the
    prompt's by nature, so they do not count for or against staying on the question)."""
    from .refusal_classifier import _REFUSAL, _sentences

    return [s for s in _sentences(answer) if len(s.split()) >= 4 and not _REFUSAL.search(s)]


def apply_filters(records: list[GenerationRecord], settings: FilterSettings, labeler: Labeler) -> list[Trace]:
    answered = [r for r in records if r.status == "ok" and r.final is not None and not is_truncated(r)]
    labels = labeler(answered)
    facts = {r.id: TraceFacts(*labels.get(r.id, (None, None, None)), correct=_correct(r)) for r in answered}
    filters = (StructureFilter(settings.allow_cut_reasoning, settings.answers_only), LanguageFilter(),
               DegenerationFilter(settings.degeneration),
               CitationFilter(),
               RefusalFilter(facts, settings.refusal_gate),
               ConsistencyFilter(facts, settings.consistency, settings.judge_enabled),
               CorrectnessFilter(facts))
    late = next(i for i, f in enumerate(filters) if isinstance(f, ConsistencyFilter))
    outs = [_check(r, settings.enabled, filters, upto=late) for r in records]
    # The similarities and paragraph probabilities cost a MiniLM pass per text (most of the chain's time), and only
    # the consistency check reads them: they are computed for the traces that reach it, not for those an earlier
    # check already rejected (most of a small teacher's, or of a file whose thinking is cut).
    reaching = [o.record for o in outs if o.kept]
    if settings.enabled.get("consistency", True):
        floors = {**DEFAULT_CONSISTENCY, **settings.consistency}
        if floors["min_reasoning_relevance"] or floors["min_answer_relevance"]:
            relevance, answer_relevance = _relevance(reaching)
            for rid, value in relevance.items():
                facts[rid].relevance = value
            for rid, value in answer_relevance.items():
                facts[rid].answer_relevance = value
        for rid, value in _content_comply(reaching, labels, floors).items():
            facts[rid].content_comply = value
    for o in outs:
        if o.kept:
            _go_on(o, settings.enabled, filters[late:])
        f = facts.get(o.record.id)
        if f is not None:
            o.response_type, o.confidence, o.correct = f.response_type, f.confidence, f.correct
    return outs


def _content_comply(records: list[GenerationRecord], labels: dict, settings: dict) -> dict[str, float]:
    """For harmful prompts labelled by the learned model whose answer has more than `max_words_after_refusal` words
    besides its declines: the highest P(comply) of a paragraph (see consistency.partial_completion). Computed once
    per batch, like the labels; empty for other labellers."""
    todo = [r for r in records if r.request.prompt.kind == "harmful" and labels.get(r.id, (None, None, None))[2]
            is not None and analyse(r.final.answer or "").help_words > settings["max_words_after_refusal"]]
    if not todo:
        return {}
    from .response_model import content_comply_probability

    return {r.id: p for r, p in zip(todo, content_comply_probability([r.final.answer or "" for r in todo]))}


def _correct(r: GenerationRecord) -> bool | None:
    if r.request.prompt.kind != "reasoning" or r.request.prompt.reference is None:
        return None
    return answers_match(r.final.answer or "", r.request.prompt.reference)
