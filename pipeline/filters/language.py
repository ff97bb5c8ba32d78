"""Language: the chain's checks read English, so a trace written in another language is rejected, not judged.

The response-type label (an English sentence embedding and English phrase rules), the reasoning checks and the
refusal gates are built on English. On another language they give confident wrong verdicts: a Chinese refusal of a
harmful prompt reads as `comply` and is rejected as `harmful_complied`, a Spanish refusal of a benign prompt has no
decline sentence the gate can see. Weak teachers also switch language part-way (ChatGLM2's Do-Not-Answer answers that
turn into Chinese after an English opening). So a reasoning or an answer identified as another language gets a reason
of its own, and the funnel shows how many; `filters: {language: false}` turns the check off for those who accept
verdicts the checks cannot back. One exception: a benign or reasoning prompt that names a language may get its answer
in that language (LanguageFilter).

Identification: py3langid (langid.py's naive Bayes model over byte n-grams, shipped inside the wheel: no
download). It reads the text without code, formulas and URLs, only where at least MIN_LETTERS letters remain (a
short answer such as "#### 18" or "No." carries too little to tell), and rejects only a confident call
(MIN_PROBABILITY) or a text written mostly in another script. Of the 46,920 answers and thinking blocks of the
English public sets the benchmarks read (RBR, Do-Not-Answer, PHTest, CoCoNot, GPTFuzz, Qwen3-32B, GSM8K) it flags
38, each written in another language (docs/benchmarks.md)."""
from __future__ import annotations

import re
from functools import lru_cache

from ..records import GenerationRecord
from .base import Filter

READ = "en"                 # the language the checks are written for
MIN_LETTERS = 15
MIN_PROBABILITY = 0.8       # below it English lists and tables start to read as Nigerian Pidgin or Latin
# fenced and inline code, TeX formulas and URLs: their letters are no language (and langid reads code as several)
_NOT_PROSE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\\\[.*?\\\]|\\\(.*?\\\)|https?://\S+",
                        re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier   # lazy: loading the model takes under a second

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> str | None:
    """The language `text` is confidently written in (the model's code: "en", "zh", "es", …), or None when it has
    too few letters of prose or the model is unsure."""
    prose = _NOT_PROSE.sub(" ", text or "")
    letters = len(_LETTER.findall(prose))
    if letters < MIN_LETTERS:
        return None
    lang, probability = _identifier().classify(prose)
    # mostly letters of another script (Chinese, Cyrillic, Arabic, …) is another language however unsure the model
    # is between its neighbours (Mandarin or Wu: 0.88 for a plain Chinese sentence)
    other_script = len(_LATIN.findall(prose)) < letters / 2
    return lang if probability >= MIN_PROBABILITY or (other_script and lang != READ) else None


MIN_SWITCH_LETTERS = 8     # letters of another script on one line: a sentence or a phrase, not a name or a symbol


def _letters(prose: str) -> tuple[int, int]:
    """(letters, letters outside the Latin script) of text already stripped of code, formulas and URLs."""
    letters = len(_LETTER.findall(prose))
    return letters, letters - len(_LATIN.findall(prose))


def other_script_letters(text: str) -> int:
    """Letters outside the Latin script in `text`, code, formulas and URLs left out."""
    return _letters(_NOT_PROSE.sub(" ", text or ""))[1]


def switched_line(text: str) -> str | None:
    """The first line written in another script (at least MIN_SWITCH_LETTERS letters, most of the line's), or None.

    Weak teachers switch language part-way: Qwen-1.8B-chat closes English answers with a line of Chinese, often
    written again and again ("不断地学习和实践，…"), in 275 of its 500 completions in refusal_direction's files, and
    the whole text still reads as English to `language_of` in 240 of them; ChatGLM2 goes on in Chinese after an
    English opening. No English answer or thinking block of the public sets the benchmarks read has such a line but
    those written on request (docs/benchmarks.md, "Twenty-third session")."""
    if (text or "").isascii():   # most English text: done
        return None
    prose = _NOT_PROSE.sub(" ", text)
    if _letters(prose)[1] < MIN_SWITCH_LETTERS:
        return None
    for line in prose.splitlines():
        letters, other = _letters(line)
        if other >= MIN_SWITCH_LETTERS and other * 2 > letters:
            return line.strip()
    return None


def not_read(text: str) -> bool:
    """`text` is confidently in a language other than the one the checks read."""
    lang = language_of(text)
    return lang is not None and lang != READ


# Languages a prompt can ask for by name, and the identifier's codes an answer in them may get (close neighbours
# included: Spanish read as Galician, Norwegian as Danish, Indonesian as Malay, Mandarin as Wu or Cantonese).
ASKABLE = {
    "spanish": {"es", "gl", "ca"}, "español": {"es", "gl", "ca"}, "french": {"fr"}, "français": {"fr"},
    "german": {"de", "lb"}, "deutsch": {"de", "lb"}, "italian": {"it"}, "portuguese": {"pt", "gl"},
    "dutch": {"nl", "af"}, "russian": {"ru"}, "ukrainian": {"uk"}, "polish": {"pl"}, "czech": {"cs", "sk"},
    "swedish": {"sv"}, "danish": {"da", "no", "nn"}, "norwegian": {"no", "nn", "da"}, "finnish": {"fi"},
    "greek": {"el"}, "turkish": {"tr"}, "romanian": {"ro"}, "hungarian": {"hu"}, "latin": {"la"},
    "chinese": {"zh", "wuu", "yue"}, "mandarin": {"zh", "wuu", "yue"}, "cantonese": {"yue", "zh"},
    "japanese": {"ja"}, "korean": {"ko"}, "arabic": {"ar", "ary", "arz"}, "hebrew": {"he"}, "hindi": {"hi", "mr", "ne"},
    "persian": {"fa"}, "farsi": {"fa"}, "vietnamese": {"vi"}, "indonesian": {"id", "ms"}, "malay": {"ms", "id"},
    "thai": {"th"}, "swahili": {"sw"}, "catalan": {"ca", "es"}, "tagalog": {"tl"}, "filipino": {"tl"},
}
_ASKED = re.compile(r"\b(" + "|".join(map(re.escape, ASKABLE)) + r")\b", re.IGNORECASE)
ASKING_KINDS = ("benign", "reasoning")


def asked_languages(prompt: str) -> set[str]:
    """The identifier's codes for every language the prompt names ("Translate this into Spanish")."""
    return {code for m in _ASKED.finditer(prompt or "") for code in ASKABLE[m.group(1).lower()]}


class LanguageFilter(Filter):
    """A benign or reasoning prompt that names a language may get its answer in it: a translation, a poem in
    French, a conjugation table were rejected as `answer_not_english` though they are what was asked. The reasoning
    must still be English, and a harmful or sensitive prompt's answer always, because the checks that decide those
    verdicts read English (a request to translate harmful instructions is a known way round a refusal)."""
    name, stage = "language", "wrong_language"

    def check(self, record: GenerationRecord) -> str | None:
        reasoning = "\n".join(t.reasoning or "" for t in record.turns)
        if not_read(reasoning):
            return "reasoning_not_english"
        answer = record.final.answer if record.final else ""
        prompt = record.request.prompt
        lang = language_of(answer)
        asked = asked_languages(prompt.text) if prompt.kind in ASKING_KINDS else set()
        if lang is not None and lang != READ and lang not in asked:
            return "answer_not_english"
        # A line in another script inside English text: the teacher switched language part-way. A prompt written
        # partly in another script may be quoted, and a benign prompt that names a language may get lines of it (in
        # the answer, and drafted in the reasoning).
        if asked or other_script_letters(prompt.text) >= MIN_SWITCH_LETTERS:
            return None
        if switched_line(reasoning):
            return "reasoning_switches_language"
        if switched_line(answer):
            return "answer_switches_language"
        return None
