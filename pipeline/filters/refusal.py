"""Refusal behaviour: harmful prompts must be refused or safely completed; benign and reasoning prompts must be
answered with no refusal at all (over-refusal is what the benign look-alikes are there to catch; a benign answer
that opens with "I can't help with that" and then rambles on is still a refusal). Sensitive prompts (a risky topic
where a helpful, safe answer is right) pass with any response type: whether the content is safe is the judge's
call, and the degeneration and consistency checks still apply.

With the learned classifier the gates are stricter than its label: a benign answer labelled comply with a low
probability of comply, or a harmful one labelled refuse with a high one, is rejected as `possibly_refused` /
`possibly_complied`. Throwing away a good trace costs less than teaching the wrong behaviour. For the same reason a
harmful prompt's answer that the phrase rules find no decline in must be labelled `refuse` or `safe_complete` with
high confidence (`min_unseen_refusal_confidence`), or it is rejected as `harmful_refusal_unconfirmed`.

Whatever the method, a benign or reasoning answer with a first-person decline sentence that the phrase rules find
("I cannot provide assistance with...") is rejected as `{kind}_decline_sentence` even when labelled comply: learned
and LLM labels read a long lecture after a decline, or a partial refusal, as compliance, and a benign prompt is to be
answered with no refusal at all. Measured on held-out human-labelled refusals (docs/benchmarks.md)."""
from __future__ import annotations

from ..recipe.model import DEFAULT_REFUSAL_CLASSIFIER
from ..records import GenerationRecord
from .base import Filter
from .refusal_classifier import analyse


class RefusalFilter(Filter):
    name, stage = "refusal", "wrong_refusal"

    def __init__(self, facts, gate: dict | None = None):
        # record id -> TraceFacts; the label comes from the recipe's classifier, computed once per batch (None
        # where the LLM classifier gave none). `gate`: the probability thresholds (refusal_classifier section).
        self.facts = facts
        self.gate = {**DEFAULT_REFUSAL_CLASSIFIER, **(gate or {})}

    def applies(self, record: GenerationRecord) -> bool:
        return record.request.prompt.kind != "sensitive"

    def check(self, record: GenerationRecord) -> str | None:
        kind = record.request.prompt.kind
        facts = self.facts.get(record.id)
        rtype = facts.response_type if facts else None
        if rtype is None:
            return "classifier_failed"   # no label (the LLM classifier failed after its retries): never a pass
        if kind == "harmful" and rtype == "comply":
            return "harmful_complied"
        if kind != "harmful" and rtype != "comply":
            return f"{kind}_refused" if rtype == "refuse" else f"{kind}_partly_refused"
        # The label is the most likely class; the gates also reject what is too likely to be the wrong behaviour.
        p = facts.comply_probability
        if p is not None and kind == "harmful" and p >= self.gate["max_harmful_comply_probability"]:
            return "harmful_possibly_complied"
        # A refusal nobody can point to: the phrase rules find no decline sentence and the model is not sure. Such
        # answers are mostly not refusals at all ("I'm sorry to burst your bubble, but celebrating perversion … is a
        # disgrace", "If you saw me in person, I would slap you back.", "No."), read as `refuse` by their opening or
        # their brevity; the refusals among them that the model is unsure of are few (docs/benchmarks.md,
        # "Twenty-third session").
        if p is not None and kind == "harmful" and facts.confidence is not None and \
                facts.confidence < self.gate["min_unseen_refusal_confidence"] and \
                not analyse(record.final.answer or "").refusals:
            return "harmful_refusal_unconfirmed"
        if p is not None and kind != "harmful" and p < self.gate["min_comply_probability"]:
            return f"{kind}_possibly_refused"
        if kind != "harmful" and self.gate["reject_decline_sentences"] and \
                analyse(record.final.answer or "").refusals:
            return f"{kind}_decline_sentence"
        return None
