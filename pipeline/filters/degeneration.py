"""Degeneration: loops and repetition in the reasoning or the answer.

Small teachers fall into loops (the same sentence, line or phrase again and again) and a trace that loops teaches
looping. The statistics are the repetition measures web-scale text filters use (Gopher / datatrove's
GopherRepetitionFilter: duplicate lines and their characters, the share of characters in the most frequent
n-gram, the share of characters in repeated n-grams), plus a repeated-sentence count that catches loops in
texts too short for n-gram shares to mean much. Thresholds live in the recipe's `degeneration` block; the
defaults start from Gopher's and are loosened for answer-length texts (Gopher's were set on web documents);
docs/benchmarks.md measures how much normal text they reject. Two kinds of repetition are not loops: a song's chorus
(answers only) and the prompt's own phrases restated (degeneration_reason)."""
from __future__ import annotations

import re
import zlib
from collections import Counter

from ..recipe.model import DEFAULT_DEGENERATION
from ..records import GenerationRecord
from .base import Filter

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")
_MARKER = re.compile(r"^\s*(?:[-*•>#]+|\d+[.)]|step\s*\d+[:.)]?)\s*", re.IGNORECASE)
_ALPHA = re.compile(r"[^\W\d_]+")
# Mathematics written in LaTeX: delimited formulas and environments, then any command left outside them. A derivation
# restates its formulas (the same \frac{m}{2}\omega^2 in every step), which the word statistics read as a loop: on
# a public set of long physics derivations (docs/benchmarks.md) a third were rejected, mostly for repeated 5-grams
# such as "frac f m omega quad". A single-dollar formula opens and closes next to a non-space, as in TeX-aware
# Markdown, so "costs $5 and $6" stays prose. Each formula becomes a token standing for its own text (_FORMULA): the
# phrase and n-gram statistics read the prose without them, and a sentence needs three words of prose to count,
# while two sentences that differ only in their formulas ("Distance to \(B\): same as above", "Distance to \(C\):
# …") stay different. The line check reads the text as written, so a teacher that writes the same formula line
# again and again is still caught.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$])\$(?=\S)[^$\n]+?(?<=\S)\$(?![$\d])"
                   r"|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.DOTALL)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_FORMULA = re.compile(r"\bformula[0-9a-f]{8}\b")


def _formula_token(m: re.Match) -> str:
    """`formula<crc32 of its text>`, on a line of its own when the formula is displayed (`\\[…\\]`, `$$…$$`, an
    environment), which is how it reads."""
    token = f"formula{zlib.crc32(m.group().encode()):08x}"
    return f"\n{token}\n" if m.group().startswith(("\\[", "$$", "\\begin")) else f" {token} "


def _mask_math(text: str) -> str:
    """Each formula replaced by its token (_formula_token), every other LaTeX command by a space."""
    if "$" not in text and "\\" not in text:     # no LaTeX: most texts
        return text
    return _LATEX_COMMAND.sub(" ", _MATH.sub(_formula_token, text))


PHRASE_WORDS = 8
PHRASE_REPEAT_EVERY = 50   # words: a longer text may repeat a phrase once more per this many words


def _norm(s: str) -> str:
    return " ".join(_WORD.findall(s.lower()))


def _repeated_grams(words: list[str], n: int, asked: frozenset = frozenset(), echo_words: int = 0) \
        -> list[tuple | None]:
    """Each position's n-gram where it occurs more than once, else None. A phrase of the prompt (`asked`) restated
    counts as None too, unless it lies in a repeated stretch of more than `echo_words` words: the prompt written
    out again and again is a loop."""
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    repeated = [counts[g] > 1 for g in grams]
    out: list[tuple | None] = [None] * len(grams)
    i = 0
    while i < len(grams):
        if not repeated[i]:
            i += 1
            continue
        j = i
        while j < len(grams) and repeated[j]:
            j += 1
        echo = j - i + n - 1 > echo_words          # words in this run of repeated n-grams
        for k in range(i, j):
            if echo or grams[k] not in asked:
                out[k] = grams[k]
        i = j
    return out


def _top_ngram_frac(words: list[str], n: int, asked: frozenset = frozenset(), echo_words: int = 0) -> float:
    grams = Counter(g for g in _repeated_grams(words, n, asked, echo_words) if g is not None)
    if not grams:
        return 0.0
    gram, count = grams.most_common(1)[0]
    if count < 2:
        return 0.0
    total = sum(len(w) for w in words)
    return sum(len(w) for w in gram) * count / max(1, total)


def _dup_ngram_frac(words: list[str], n: int, asked: frozenset = frozenset(), echo_words: int = 0) -> float:
    """Share of characters covered by n-grams that occur more than once (each position counted once), a restated
    phrase of the prompt left out (_repeated_grams)."""
    if len(words) < n:
        return 0.0
    covered = [False] * len(words)
    for i, g in enumerate(_repeated_grams(words, n, asked, echo_words)):
        if g is not None:
            for j in range(i, i + n):
                covered[j] = True
    total = sum(len(w) for w in words)
    return sum(len(w) for w, c in zip(words, covered) if c) / max(1, total)


_STANZA_BREAK = re.compile(r"\n[ \t]*\n")


def _counted_lines(text: str) -> list[str]:
    """The lines the line check compares: without their list markers and emphasis ("1. **X**: y" and "2. **X**: y"
    are one line written twice), lines under three words (headings, "Decision: refuse") left out. A stanza is the
    same by these lines."""
    return [ln for ln in (_norm(_MARKER.sub("", x)) for x in text.splitlines()) if len(ln.split()) >= 3]


VERSE_LINE_WORDS = 14     # a sung line is short; prose, list items and code are not verse
_NOT_VERSE = re.compile(r"[{}=;<>`|]|^\s*(?:[-*•+]|\d+[.)])\s")


def _verse(stanza: str) -> bool:
    """A block of short lines, none a list item or code: what a chorus looks like."""
    lines = [ln for ln in stanza.splitlines() if ln.strip()]
    return len(lines) >= 2 and all(len(ln.split()) <= VERSE_LINE_WORDS and not _NOT_VERSE.search(ln) for ln in lines)


def without_refrains(text: str, max_refrains: int) -> str:
    """The text with every repeat of a refrain removed, so that a song's chorus is not read as a loop.

    A refrain is a stanza (a block of two or more short lines of verse, between blank lines: no list item, no code)
    that recurs verbatim at most `max_refrains` times (the recipe's `degeneration.max_refrains`), each time after a
    stanza that occurs only once (a verse, a bridge). Songs and poems that strong teachers write are built this way,
    and the line statistics rejected them (on PHTest's answers, Claude's, Llama-3's and Mistral's songs;
    docs/benchmarks.md). A loop is not: the same block again straight after itself, blocks that take turns with each
    other, or a block written more often than a chorus is sung stay as they are, and the statistics below still
    read them."""
    stanzas = [st for st in _STANZA_BREAK.split(text) if st.strip()]
    keys = [tuple(_counted_lines(st)) for st in stanzas]
    counts = Counter(keys)
    drop: set[int] = set()
    for key, count in counts.items():
        if count < 2 or count > max_refrains or len(key) < 2:
            continue
        at = [i for i, k in enumerate(keys) if k == key]
        if not _verse(stanzas[at[0]]):
            continue
        if all(any(counts[keys[j]] == 1 for j in range(a + 1, b)) for a, b in zip(at, at[1:])):
            drop.update(at[1:])
    if not drop:
        return text
    return "\n\n".join(st for i, st in enumerate(stanzas) if i not in drop)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")
FRAME_MIN_WORDS = 5   # n-grams this long and longer can be a list's frame; also the fewest new words an item must add


def _list_frames(masked: str, words: list[str], sizes: set[int], min_share: float) -> dict[int, frozenset]:
    """The n-grams (n >= FRAME_MIN_WORDS) that a list repeats as its frame: every occurrence in a list item, at most
    one per item. Only for a list of three or more items each of which says something the rest of the text does
    not: at least FRAME_MIN_WORDS of its words, and `min_share` of them (the recipe's
    `degeneration.list_item_novel_share`; 0 turns this off), outside every 5-gram the text repeats.

    A chat model's list answer restates its own frame in every item ("GLAAD: … provides resources for challenging
    stereotypes and promoting understanding … Visit their website at …", one organisation per item), and the
    repeated-n-gram share read that as a loop: 7 of 1,881 GPT answers to WildJailbreak's benign prompts, all
    ordinary lists (docs/benchmarks.md, "Twenty-third session"). A loop written as a list repeats its items, not
    just their frame: an item that is mostly another item again ("3. Using a third-party software: … can be used to
    tamper … / 4. Using a computer program: … can be used to tamper …") keeps every phrase counted."""
    if min_share <= 0:
        return {}
    items = [_ALPHA.findall(_FORMULA.sub(" ", ln).lower()) for ln in masked.splitlines() if _LIST_ITEM.match(ln)]
    if len(items) < 3:
        return {}
    n0 = FRAME_MIN_WORDS
    counts = Counter(tuple(words[i:i + n0]) for i in range(len(words) - n0 + 1))
    for item in items:
        novel = [True] * len(item)
        for i in range(len(item) - n0 + 1):
            if counts[tuple(item[i:i + n0])] > 1:
                novel[i:i + n0] = [False] * n0
        if sum(novel) < max(n0, min_share * len(item)):
            return {}
    frames = {}
    for n in (k for k in sizes if k >= n0):
        total = counts if n == n0 else Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
        per_item = [Counter(tuple(it[i:i + n]) for i in range(len(it) - n + 1)) for it in items]
        in_items: Counter = Counter()
        for c in per_item:
            in_items.update(c)
        frames[n] = frozenset(g for g, k in in_items.items()
                              if k > 1 and total[g] == k and all(c[g] <= 1 for c in per_item))
    return frames


def _prompt_ngrams(prompt: str, sizes: set[int]) -> dict[int, frozenset]:
    words = _ALPHA.findall(_FORMULA.sub(" ", _mask_math(prompt)).lower())
    return {n: frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1)) for n in sizes}


def degeneration_reason(text: str, limits: dict, prompt: str | None = None, refrains: bool = False) -> str | None:
    """The first repetition statistic over its limit, as a reason, or None for normal text.

    `prompt`: the phrase count and the n-gram shares do not count a phrase of the prompt as repetition, unless it
    lies in a repeated stretch of more than `prompt_echo_words` words (a recipe setting). An answer that restates
    the question's own terms in every item ("the effects of climate change on crop yields") is verbose, not
    looping, and those statistics rejected such answers of chat models (PHTest; docs/benchmarks.md); a teacher
    that writes the prompt out again and again is still caught by them, and the line and sentence checks read the
    text as before. `refrains`: repeats of a refrain are removed first (without_refrains); for answers, not
    reasoning."""
    text = (text or "").strip()
    if not text:
        return None
    if refrains:
        text = without_refrains(text, limits["max_refrains"])
    lines = _counted_lines(text)
    if len(lines) >= 3:
        counts = Counter(lines)
        dup_lines = sum(c - 1 for c in counts.values() if c > 1)
        if dup_lines / len(lines) > limits["max_dup_line_frac"]:
            return "repeated_lines"
        dup_chars = sum(len(ln) * (c - 1) for ln, c in counts.items() if c > 1)
        if dup_chars / max(1, sum(len(ln) for ln in lines)) > limits["max_dup_line_char_frac"]:
            return "repeated_lines"
    masked = _mask_math(text)
    pieces = [_norm(s) for s in _SENTENCE.split(masked)]
    # A formula restated now and then is a derivation; the same formula (or sentence) three times in a row is a loop,
    # however few words of prose it has.
    run = 1
    said = [p for p in pieces if len(p.split()) >= 3 or _FORMULA.search(p)]
    for before, now in zip(said, said[1:]):
        run = run + 1 if now == before else 1
        if run > limits["max_sentence_repeats"]:
            return "repeated_sentence"
    sentences = [p for p in pieces if len(_FORMULA.sub(" ", p).split()) >= 3]
    if sentences:
        counts = Counter(sentences)
        if counts.most_common(1)[0][1] > limits["max_sentence_repeats"]:
            return "repeated_sentence"
        if len(sentences) >= 4 and sum(c - 1 for c in counts.values()) / len(sentences) > limits["max_dup_sentence_frac"]:
            return "repeated_sentences"
    words = _ALPHA.findall(_FORMULA.sub(" ", masked).lower())   # numbers repeat legitimately in worked arithmetic
    n = PHRASE_WORDS
    sizes = {n} | {int(k) for k in limits["top_ngram_max_frac"]} | {int(k) for k in limits["dup_ngram_max_frac"]}
    asked = _prompt_ngrams(prompt, sizes) if prompt else {}
    # a list's frame restated once per item counts like the prompt's phrases restated (_list_frames)
    for k, frame in _list_frames(masked, words, sizes, limits.get("list_item_novel_share", 0)).items():
        asked[k] = asked.get(k, frozenset()) | frame
    echo = limits["prompt_echo_words"]
    phrases = Counter(g for g in _repeated_grams(words, n, asked.get(n, frozenset()), echo) if g is not None)
    if len(words) >= 2 * n and phrases and phrases.most_common(1)[0][1] \
            > max(limits["max_phrase_repeats"], len(words) // PHRASE_REPEAT_EVERY):
        # the same 8 words again and again: a loop whose sentences do not end (list lines, run-on text), which the
        # sentence counts cannot see. A list answer repeats its own phrasing from item to item ("when you feel a
        # panic attack coming on"), so a longer text is allowed one more repeat per PHRASE_REPEAT_EVERY words.
        return "repeated_phrase"
    if len(words) >= limits["min_words_for_ngrams"]:
        for n, cap in sorted(limits["top_ngram_max_frac"].items(), key=lambda kv: int(kv[0])):
            if _top_ngram_frac(words, int(n), asked.get(int(n), frozenset()), echo) > cap:
                return f"top_{n}gram_repetition"
        for n, cap in sorted(limits["dup_ngram_max_frac"].items(), key=lambda kv: int(kv[0])):
            if _dup_ngram_frac(words, int(n), asked.get(int(n), frozenset()), echo) > cap:
                return f"duplicate_{n}gram_repetition"
    return None


class DegenerationFilter(Filter):
    name, stage = "degeneration", "degenerate"

    def __init__(self, limits: dict | None = None):
        self.limits = limits or DEFAULT_DEGENERATION

    def check(self, record: GenerationRecord) -> str | None:
        floor = self.limits.get("min_mean_logprob")
        if floor is not None:
            for t in record.turns:
                if t.mean_logprob is not None and t.mean_logprob < floor:
                    return "incoherent_text"
        prompt = record.request.prompt.text
        reasonings = [t.reasoning or "" for t in record.turns]
        # each turn, then all turns together: a teacher that writes the same reasoning again after every tool
        # result loops across turns
        for text in reasonings + (["\n".join(reasonings)] if len(reasonings) > 1 else []):
            if reason := degeneration_reason(text, self.limits, prompt=prompt):
                return f"reasoning_{reason}"
        if reason := degeneration_reason(record.final.answer or "", self.limits, prompt=prompt, refrains=True):
            return f"answer_{reason}"
        return None
