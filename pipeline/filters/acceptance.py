"""An answer to a harmful prompt that opens by accepting it: "Sure, here's a plan to sabotage a transportation system
and cause harm to passengers:" and then, often, "I cannot fulfill your request. …".

The label reads such an answer as a refusal (the decline is most of it), so the refusal gate keeps it; but what
a model learns from it is to say yes to the request first. It is the shape an optimised jailbreak suffix asks for
(the attack's target string "Sure, here is …"), and people reading these answers call it a safety violation: in the
hand-labelled set of Cai et al. ("Rethinking How to Evaluate Language Model Jailbreak", purseclab/jailbreak-evaluation),
15 of the 141 answers marked as violations open this way and then decline, two of which the chain used to keep; no
refusal of RBR, Do-Not-Answer, GPTFuzz, Reuter & Schulze or PHTest, and none of a strong teacher's 500 traces and
726 answers, opens this way (compliant answers do, and a harmful prompt's compliance is rejected anyway; four of
PHTest's 5,614 partial refusals do: docs/benchmarks.md, "Twelfth session", in the whole filter chain's section).

What counts is an announcement of the requested thing ("Here is …", "Below is …", "Sure, I'll write …") whose
words, up to a colon or a "but", are mostly the prompt's own: the request restated as delivered. "Here are some ways
to protect your accounts:" after a request to break into one does not restate it, so a safe alternative is not
caught. Only the opening is read: a refusal that later says "here is what I can do" is not an acceptance.

Not counted: an eager acceptance with nothing in it ("Certainly, I'd be happy to help! However, …"). It opens one of
the strong teacher's 500 safe answers (declining to reproduce a copyrighted book) and one answer Cai et al.'s
annotator did not call a violation, so the words alone do not make it one.

Also here: an answer that accepts on a condition, letting the user go ahead anyway ("However, if you still wish to
proceed, …"; concedes_if_user_proceeds below)."""
from __future__ import annotations

import re

from .refusal_classifier import _CLAUSE, _REFUSAL

_AFFIRM = r"(?:sure(?:\s+thing)?|certainly|of\s+course|absolutely|okay|ok|yes|alright|great|definitely|no\s+problem)"
_ANNOUNCE = re.compile(
    r"^\W*(?:(?:" + _AFFIRM + r"\b[\s,!.]*)?(?:here(?:'s|\s+is|\s+are)|below\s+(?:is|are))"
    # "I'll write …" announces only after a word of acceptance: "I'll explain why I can't" opens many refusals
    r"|" + _AFFIRM + r"\b[\s,!.]*(?:I'll|I\s+will|let\s+me)\s+(?:now\s+)?(?:provide|write|give|create|explain|show|"
    r"outline|describe|draft|develop|design|teach|help\s+you))\b", re.IGNORECASE)
_ONLY_AFFIRM = re.compile(r"^\W*" + _AFFIRM + r"\W*$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z]{3,}")
# words of the announcement itself, and function words, which say nothing about what is announced
_NOT_CONTENT = frozenset((
    "sure here certainly course absolutely okay yes alright great definitely happy glad help would below provide "
    "write give create explain show outline describe draft develop design teach now the and for with how what are "
    "your you this that can could some").split())


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _NOT_CONTENT}


def accepts_the_request(prompt: str, answer: str) -> bool:
    """The answer's opening (its first sentence, or the second after a bare "Sure!") announces the requested thing:
    of the announcement's content words, at least min(3, the prompt's) and at least half are the prompt's own."""
    parts = [s.strip() for s in _SENTENCE.split((answer or "").strip(), maxsplit=2) if s.strip()]
    if not parts:
        return False
    first = parts[1] if _ONLY_AFFIRM.match(parts[0]) and len(parts) > 1 else parts[0]   # "Sure!" then "Here is …"
    if not _ANNOUNCE.match(first):
        return False
    head = _CLAUSE.split(first.split(":", 1)[0], maxsplit=1)[0]    # what is announced, before ":" or "but"
    if _REFUSAL.search(head):
        return False
    asked, announced = _content_words(prompt or ""), _content_words(head)
    shared = len(asked & announced)
    return bool(asked) and shared >= min(3, len(asked)) and shared >= 0.5 * len(announced)


# A sentence that lets the user go ahead: "However, if you still wish to proceed, take precautions to avoid being
# caught", "If you are determined to do it, here are a few steps…", "If you insist, …". It accepts the request on a
# condition, and what follows it is the help itself (or a blessing to do it unhelped). The redirect rule reads any
# sentence opening "If you …" as pointing elsewhere ("If you're locked out, call a locksmith"), so without this check
# such a sentence hid the method behind its opener ("If you wish to try, create an account on a VPN and access your
# friend's device remotely…"). Only the user's intent to carry on with the request itself counts ("do so", "do it",
# "proceed", "go ahead", "try"); a lawful route ("If you want to do this legally, talk to a lawyer") does not.
_PROCEED = re.compile(
    r"^\W*(?:(?:and|so|but|however|now|still|nevertheless|nonetheless|that\s+said|that\s+being\s+said)\b,?\s*)?"
    r"(?:if|should|when|once|in\s+case)\s+you(?:'re|\s+are)?\s+"
    r"(?:(?:still|really|truly|absolutely|do|nevertheless|nonetheless)\s+)?"
    r"(?:(?:want|wish|plan|intend|decide|choose|insist|determined|going|set|planning|keen|would\s+like|'d\s+like)"
    r"(?:\s+on|\s+to)?\s+(?:try(?:ing)?\s+to\s+)?"
    r"(?:do(?:ing)?\s+(?:so|it|this|that)|proceed(?:ing)?|go(?:ing)?\s+(?:ahead|through)|carry(?:ing)?\s+on|"
    r"pursu(?:e|ing)\s+(?:this|it|that)|mov(?:e|ing)\s+forward|"
    r"continu(?:e|ing)(?=\s*[,.;:!]|\s+with\s+(?:it|this|that)\b)|"
    r"(?:try|trying|attempt|attempting)(?=\s*[,.;:!]|\s+(?:it|this|that)\b))\b"
    r"(?!\s+(?:[\w']+\s+){0,3}?(?:legal|legally|lawful|lawfully|legitimate|legitimately|ethically|official|"
    r"with\s+(?:[\w']+\s+){0,2}(?:permission|consent|approval))\b)"
    r"|insist\s*,|must\s*,)", re.IGNORECASE)


# Where a concession can start: a sentence or a line (_SENTENCE's splits), a clause after a semicolon or a colon (a
# persona's quoted reply: 'As BH, I would say: "If you insist, …"'), or a clause after a comma and a conjunction ("I
# don't recommend it, but if you're determined to do it, here's a suggestion"). Quotes are kept: a concession inside
# one is still one.
_CONCESSION_START = re.compile(
    _SENTENCE.pattern + r"|[;:]\s*|,\s+(?=(?:but|however|though|yet|and|so)\s+(?:if|should|when|once|in\s+case)\b)",
    re.IGNORECASE)


def concedes_if_user_proceeds(answer: str) -> bool:
    """Some sentence or clause of the answer lets the user carry on with the request (see _PROCEED)."""
    text = (answer or "").replace("’", "'")
    return any(_PROCEED.search(s.strip()) for s in _CONCESSION_START.split(text) if s.strip())
