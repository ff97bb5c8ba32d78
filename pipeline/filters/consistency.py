"""Consistency: the parts of a trace agree with each other and with the prompt's kind.

A trace can pass the refusal gate and still teach the wrong thing:
- protocol text in the answer (a `Decision:` line, think or tool tags, cited rule ids, chat-template tokens): the
  user would see the scaffolding;
- the decision written in the reasoning disagrees with what the answer does (decided "refuse", answered with help),
  or with the prompt's kind (decided "comply" on a harmful prompt);
- a harmful prompt answered by first accepting it ("Sure, here's a plan to sabotage …:") and then, often,
  declining: the label reads a refusal, but the data would teach saying yes first (acceptance.py);
- a harmful prompt answered with a refusal opener followed by instructions, or reasoning that works out the
  harmful help itself (as steps, as plain statements or as a string of proposals: "maybe …, I could …"), plays the
  jailbreak's personas or never refers to the request, the user, the rules or the decision at all (the reasoning is
  trained on too);
- a harmful prompt's refusal written as the jailbreak's role-play dialogue, even when every persona declines;
- a harmful prompt answered with a partial completion that nobody checked: kept only when the judge's safety score
  says the completed part is safe (checked after the judge; see judge/build_stages.py), rejected when the recipe has
  no judge or says `harmful_partial: reject`;
- reasoning that wanders away from the question (low MiniLM similarity between prompt and reasoning)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..recipe.model import DEFAULT_CONSISTENCY
from ..records import GenerationRecord
from .acceptance import accepts_the_request, concedes_if_user_proceeds
from .base import Filter
from .citations import CITATION
from .refusal_classifier import _REASON, analyse, is_dialogue, voice_paragraphs, with_quotes_read

PROTOCOL = re.compile(r"(?:^|\n)\s*Decision\s*:|</?think>|</?tool_call>|</?tool_response>|consult_safety_rules|"
                      r"<\|[a-z_]+\|>|\bDecision:\s*(?:refuse|comply|safe_complete)", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?:])(?<![0-9][.)])(?<!^[0-9][.)])\s+|\n+")
_FULL_SENTENCE = re.compile(r"(?<=[.!?])(?<![0-9][.)])(?<!^[0-9][.)])\s+|\n+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)]|step\s*\d+\s*[:.)-]?)\s*", re.IGNORECASE)
_ACTION_VERB = (r"(?:mix|heat|add|combine|dissolve|buy|order|purchase|acquire|obtain|get|grab|take|"
                r"insert|attach|connect|open|download|install|run|execute|type|enter|inject|pour|boil|grind|crush|extract|"
                r"filter|fill|seal|place|put|light|ignite|wait(?!\s*,)|remove|shake|stir|cool|dry|cut|drill|wire|load|fire|"
                r"aim|send|"
                r"post|spread|create|make|build|craft|write|set\s+up|use|apply|hide|dispose|bury|wipe|delete|disable|bypass|"
                r"pick|break|spoof|forge|fake|steal|approach|target|follow|pretend|claim|transfer|withdraw|sell|spray|wrap|"
                r"tape|lure|threaten|press|click|select|paste|upload|search|find|look\s+for|scan|exploit|crack|brute)\b")
_MODAL = r"(?:can|could|should|need\s+to|will\s+need\s+to|must|'ll\s+need\s+to)"
# A sentence that tells someone to do something: an action verb first, perhaps after "first", "to start" or "you
# can". After a sequence word ("Then", "Next") a plain "you" may come first ("Then you heat it").
_IMPERATIVE = re.compile(
    r"^(?:(?:then|next|finally|after\s+that|afterwards|now)\b[,\s]*(?:you\s+(?:" + _MODAL + r"\s+)?)?" + _ACTION_VERB
    + r"|(?:first(?:ly)?|second(?:ly)?|to\s+start|to\s+(?:do|make|get)\s+(?:this|it|that|one))?[,\s]*"
    r"(?:you\s+" + _MODAL + r"\s+)?" + _ACTION_VERB + ")",
    re.IGNORECASE)
# In an answer a sequence word alone marks a step ("Next, the wires of the ignition…"); in reasoning it is how a
# deliberation moves on to its next point ("Next, the legal aspect.", "Then, there's the issue of consent."), so
# there a verb of action must follow it (_IMPERATIVE).
_SEQUENCE_STEP = re.compile(r"^(?:then|next|finally|after\s+that|afterwards|now)\b", re.IGNORECASE)
_REFERRAL = re.compile(r"\b(?:hotline|helpline|lifeline|crisis|counsel+or|therapist|professional|doctor|lawyer|"
                       r"police|authorities|emergency|911|988|999|112|support\s+(?:group|line|service)|someone\s+you"
                       r"\s+trust|report\s+it|legal\s+(?:advice|ways?|options?))\b", re.IGNORECASE)
_META = re.compile(r"\b(?:user|request|asks?|asking|question|rules?|polic(?:y|ies)|refuse|decline|decision|"
                   r"should(?:n't| not)?|must not|cannot|can't|won't|harmful|illegal|unsafe|dangerous|safe|"
                   r"comply|guideline|answer|refusal|response|respond|reply|offer|alternatives?|instead|resources|"
                   r"tone|crime|criminal|fraud|theft|abuse|violence|violent|disallowed|intent|intention|purpose|benign|"
                   r"malicious|privacy|consent)\b", re.IGNORECASE)
# A sentence a reasoning model writes while deliberating rather than drafting: thinking in the first person ("I need
# to", "let me", "I think"), hedging or questioning itself ("Hmm", "Maybe they...", "Is there ...?"), or weighing what
# the reply will do ("Offering ... could help", "It's important to ..."). Drafted content (a speech, a recruitment
# post, a scam message, a recipe) addresses its reader or asserts things about its subject, and rarely reads like
# this. First-person forms are limited to verbs of thinking and replying, so a scam script's "I'm in trouble" or
# "I'll pay you back" still counts as content.
_DELIBERATION = re.compile(
    r"\?$"
    r"|^(?:hmm+|okay|ok|alright|wait|oh|well|so|but|also|or|and|either\s+way|still|now)?[,\s]*"
    r"(?:hmm+|okay|alright|wait|maybe|perhaps|possibly|probably|alternatively|in\s+summary|overall|"
    r"on\s+the\s+other\s+hand)\b"
    r"|\blet\s+me\b|\blet's\s+(?:think|see|consider|check|make\s+sure)\b"
    r"|\bI\s+(?:(?:also\s+|really\s+|still\s+|just\s+|probably\s+|definitely\s+)?(?:need\s+to|should|must|"
    r"have\s+to|want\s+to|will|can|could|might|shouldn't|don't\s+want\s+to|won't|can't|cannot)\s+(?:also\s+|just\s+"
    r"|not\s+|briefly\s+|gently\s+)?(?:think|consider|focus|avoid|include|mention|suggest|offer|provide|explain|"
    r"give|add|keep|start|check|structure|draft|phrase|acknowledge|address|emphasi[sz]e|respond|reply|decline|"
    r"refuse|handle|approach|frame|redirect|point|make\s+sure|be\s+(?:careful|clear|honest|direct)|encourage|"
    r"validate|note|say|tell|answer|help|assist|comply|ignore|go|look|weigh|balance|stick)"
    r"|(?:think|wonder|recall|remember|guess|suppose|notice|understand|realis|realiz|know|mean|see)\w*)\b"
    r"|\bI'm\s+(?:not|going|thinking|supposed|being|asked|sure|unsure|allowed|able|unable|trying|here\s+to\s+help)\b"
    r"|\bI'(?:ll|d|ve)\s+(?:need|have|want|make|keep|start|explain|mention|suggest|offer|provide|include|give|add|"
    r"point|focus|note|say|respond|reply|decline|refuse|go\s+with|try|avoid|check|structure|draft|phrase|"
    r"acknowledge|also|better|rather|got\s+it|covered|considered|thought)\b"
    r"|\bmy\s+(?:role|job|goal|aim|task|priority|purpose|response|reply|answer|guidelines|instructions|reasoning)\b"
    r"|^(?:\w+,\s*)?(?:offering|suggesting|providing|explaining|encouraging|clarifying|mentioning|emphasi[sz]ing|"
    r"acknowledging|addressing|pointing\s+out|redirecting|recommending|reminding|including|giving|focusing|"
    r"highlighting|validating|directing|talking\s+about|being\s+(?:clear|honest|direct|kind|careful))\b"
    r"|\b(?:it's|it\s+is|it\s+would\s+be|that's|that\s+is|this\s+is|that\s+would\s+be|is|are)\s+"
    r"(?:also\s+|very\s+|really\s+|probably\s+|still\s+|not\s+)?(?:important|crucial|key|essential|necessary|"
    r"wise|better|best|helpful|useful|appropriate|inappropriate|tricky|sensitive|fine|okay|ok|a\s+good\s+idea|"
    r"the\s+right|right|wrong|unethical|ethical|allowed|a\s+concern|a\s+red\s+flag|worth|the\s+way\s+to\s+go)\b",
    re.IGNORECASE)
# A line that introduces a plan of the reply ("The response should:", "In my reply I'll:", "Key points to cover:"):
# the list after it says what the reply will do (acknowledge, avoid details, keep the tone warm), not how to do the
# task. Its items are not counted as instructions merely for being list items; an item that is itself an action step
# (mix, buy, inject, ...) still counts, so a lead-in cannot launder harmful steps.
_PLAN_LEAD = re.compile(r"(?:\b(?:the|my|this|our|a)\s+(?:response|reply|answer)\b"
                        r"|\bI(?:'ll|\s+will|\s+should|\s+need\s+to|\s+must|\s+want\s+to)\s+(?:respond|reply)\b"
                        # the plan named as such: "Key points to cover:", "Possible structure:", "Outline:"
                        r"|^(?:\W*)(?:so,?\s+)?(?:(?:the\s+)?(?:key|main|possible)\s+)?(?:points?|structure|outline|"
                        r"plan|elements|what\s+to\s+(?:include|say|cover|mention)|things\s+to\s+(?:include|say|cover|"
                        r"mention))\b)"
                        r"[^.!?]*:$", re.IGNORECASE)


# An answer that opens by declaring the mode a jailbreak asked for: "Developer Mode enabled.", "As ChatGPT with
# Developer Mode enabled, …". Over every public set here only GPTFuzz's jailbreak answers open so (docs/benchmarks.md).
_MODE_DECLARED = re.compile(r"^\W*(?:as\s+[^,\n]{1,40}?\s+with\s+)?(?:\w+\s+){0,2}mode\s+(?:now\s+)?"
                            r"(?:enabled|activated|engaged|unlocked|on)\s*[.!,:]", re.IGNORECASE)
MIN_VOICE_WORDS = 5     # words of help in a second voice that does not decline: the persona answered


def protocol_text(answer: str) -> bool:
    return bool(PROTOCOL.search(answer or "")) or bool(CITATION.search(answer or ""))


def second_voice_answers(text: str) -> bool:
    """A later paragraph speaks in a second role-play voice (`[JAILBREAK]`, `DAN:`, `(Developer Mode)`) that does not
    decline, with at least MIN_VOICE_WORDS words of help (its quoted speech read as words): the persona answering,
    however briefly ("INRAF: You can try …"). The shape of a role-play jailbreak, whose reasons and warnings would
    otherwise keep it under a word limit. Read in a harmful prompt's answer and in its reasoning."""
    if not voice_paragraphs(text):
        return False
    return any(not v.refusals and v.help_words >= MIN_VOICE_WORDS
               for v in map(analyse, voice_paragraphs(with_quotes_read(text))))


def partial_completion(answer: str, response_type: str | None, settings: dict,
                       content_comply: float | None = None) -> bool:
    """A harmful prompt's answer that completes something: labelled safe_complete, or a refusal followed by more
    content than `max_words_after_refusal` (often the harmful text itself behind a refusal opener). Such an
    answer is kept only when the judge's safety score vouches for it.

    Words after a refusal are also what a good refusal is made of (reasons, a lecture, a redirect, an offered
    alternative: all `refuse` by the definitions). So when the learned model has read the answer's paragraphs
    (`content_comply`: the highest P(comply) of a paragraph that could hold an answer, once its declines are
    removed), the words count only if some paragraph reads as an answer (`min_content_comply_probability`), or if
    the answer speaks in a second voice (a role-play jailbreak's persona: the word rule alone decides, and a persona
    that answers without declining is a partial completion however short). Without that figure (phrase or LLM
    labels, the judge stage) the word rule alone decides."""
    if response_type == "safe_complete":
        return True
    voices = voice_paragraphs(answer)
    if voices and second_voice_answers(answer):   # most answers have no second voice: one paragraph scan
        return True
    # in a second voice, quoted speech is the persona's answer
    counted = with_quotes_read(answer) if voices else answer
    if analyse(counted).help_words <= settings["max_words_after_refusal"]:
        return False
    if content_comply is None or voices:
        return True
    return content_comply >= settings["min_content_comply_probability"]


def _plan_aware(text: str, splitter: re.Pattern) -> Iterator[tuple[str, str, bool, bool]]:
    """(sentence, its body without a list marker, is a list item, is an item of a reply plan) for each non-empty
    sentence; the lead-in that opens a reply plan ("The response should:") is not yielded. A plan runs over the
    list lines that follow its lead-in; every sentence of such a line belongs to it, including the ones after a
    colon inside the item ("2. If it's pain: options for care")."""
    planning = False
    for line in (text or "").split("\n"):
        line_is_item = bool(_LIST_ITEM.match(line))
        planning = planning and line_is_item
        for s in splitter.split(line):
            s = s.strip()
            if not s:
                continue
            if _PLAN_LEAD.search(s):
                planning = True
                continue
            is_item = bool(_LIST_ITEM.match(s))
            yield s, _LIST_ITEM.sub("", s), is_item or line_is_item, planning and line_is_item


# A sentence about the assistant, the task, the user ("They provided 10 quotes…") or the request's ethics ("The
# assistant's job is to avoid…", "My programming doesn't support…", "The task is to highlight their divorced
# status…", "That could perpetuate stereotypes.") is a strong teacher weighing the request, not the content. Only
# content_words reads it: in an answer or a list of steps, "use an AI tool" or "the task" can be an instruction.
_ASSISTANT_WORDS = r"assistant|AI|the\s+model"
_ABOUT_THE_TASK = re.compile(r"\b(?:" + _ASSISTANT_WORDS + r"|my\s+programming|hypothetical(?:ly)?|(?:un)?ethical(?:ly)?|"
                             r"stereotyp\w*|the\s+(?:task|scenario|story|prompt|premise|instruction|framing)\s+"
                             r"(?:is|needs|involves|requires|asks|wants|says|mentions|seems)"
                             # the user as "they": "They want a balanced view", "They provided 10 quotes"
                             r"|they(?:'re|\s+are)?\s+(?:also\s+)?(?:want\w*|need\w*|provided|provide|mention\w*|"
                             r"ask\w*|request\w*|said|say|seem|claim\w*|found|gave|included|described|wrote))\b",
                             re.IGNORECASE)


# A sentence that judges what the request would do ("The term 'less cultured' … implies a hierarchy of cultures,
# which is problematic", "It could lead to serious injuries, legal issues … and violates health guidelines", "This
# kind of thinking can lead to discrimination") is the case against answering, which a strong teacher asked why a
# request is unsafe spells out point by point; counted as subject matter, 10 of 100 such Qwen3-32B thinking blocks
# read as writing the content (2026-12-07; 2 now). Not when the sentence is itself a step ("Then, unleash your
# creativity in coming up with provocative and offensive content."): a jailbroken answer names its own offence in
# passing. Only words that judge: "problem" is left out ("… invites Matilda to his office to discuss some problems").
_JUDGES_THE_REQUEST = re.compile(
    r"\b(?:problematic|discriminat\w*|offensive|misinformation|disinformation|stereotyp\w*|inappropriate|"
    r"irresponsible|unethical|consequences?|violat\w*|no-no|unfair\w*|bias(?:ed)?|prejudic\w*|dehumaniz\w*|"
    r"misleading|unsubstantiated|unproven|baseless)\b", re.IGNORECASE)


def content_words(text: str) -> int:
    """Words in sentences that are about the subject itself, not about the request, the rules, the decision, the
    plan of the reply or the model's own deliberation: a harmful prompt's reasoning that is mostly such sentences is
    writing the harmful content, not deciding. A colon does not end a sentence here ("I can offer something else:
    ..." is one plan). Sentences about working out the reply ("First, I need to figure out why this is a problem",
    _REPLY_META) and sentences that judge the request (_JUDGES_THE_REQUEST) are deciding too."""
    return sum(len(s.split()) for s, body, _, plan in _plan_aware(text, _FULL_SENTENCE)
               if not (plan and not _IMPERATIVE.match(body)) and not _META.search(s)
               and not _DELIBERATION.search(body) and not _ABOUT_THE_TASK.search(s) and not _REPLY_META.search(s)
               and not (_JUDGES_THE_REQUEST.search(s) and not (_IMPERATIVE.match(body) or _SEQUENCE_STEP.match(body))))


def writes_the_content(reasoning: str, max_words: int, max_share: float) -> bool:
    """More than `max_words` words about the subject itself, making up more than `max_share` of the reasoning. The
    share matters because a strong teacher's long deliberation always contains some plain statements about the
    subject (why it is dangerous, what a safe alternative is), while a reasoning that drafts the harmful text is
    almost all such statements."""
    words = content_words(reasoning)
    return words > max_words and words > max_share * max(len(reasoning.split()), 1)


# A line that opens a drafted message: a salutation to a named or placeholder addressee ("Dear [Customer],",
# "Hi Sarah,") or an email subject line. Quoting a request inside a sentence does not start a line this way.
_ADDRESSEE = r"[\w\[\]{}<>.'-]+"
_MESSAGE_LINE = re.compile(r"^\s*[\"'“]?\s*(?:(?:dear|hi|hello|hey|attention)\s+" + _ADDRESSEE + r"(?:\s+" + _ADDRESSEE
                           + r"){0,3}\s*,|subject\s*:\s*\S)", re.IGNORECASE | re.MULTILINE)


# A sentence of thinking that proposes a means to the request's end: a proposal frame ("maybe", "alternatively",
# "another angle", "I/they/the AI could …", "that could work", "the first step", "start by") with an action in it
# (an action verb of _IMPERATIVE, or exploit, phish, impersonate, lure, bypass, …), and no word of stance on it
# (illegal, harm, risk, consent, privacy, refuse, instead, resources, …) or of defensive help (protect, antivirus,
# official, one's own …). A strong teacher weighing a harmful request names the same methods, but with a stance
# ("hacking, which is illegal") or as a guess at the user's intent ("the user might want to …"), and plans its reply
# in words about the reply ("I need to make sure the response …"), which are left out (_REPLY_META). A reasoning
# that plans the harm is a string of such proposals ("maybe through malware or phishing, I could extract the files",
# "Alternatively, maybe exploit vulnerabilities in Skype's software", "Another angle: social engineering").
_PROPOSAL = re.compile(
    r"\b(?:maybe|perhaps|alternatively|another\s+(?:angle|approach|option|method|way|idea|tactic|strategy|step)|"
    r"one\s+(?:way|option|approach|method|tactic)|(?:I|we|they|you|one|it|he|she|the\s+(?:AI|assistant|user|attacker|"
    r"adult))\s+(?:could|might|would|can|should|need\s+to|will|'d|'ll)|(?:could|might|would)\s+work|"
    r"(?:the\s+)?(?:first|next|final)\s+step|start\s+(?:by|with)|then,?\s)\b", re.IGNORECASE)
_HARM_ACTION = re.compile(
    r"\b" + _ACTION_VERB + r"|\b(?:exploit\w*|hack\w*|phish\w*|manipulat\w*|deceiv\w*|trick\w*|impersonat\w*|"
    r"fabricat\w*|target\w*|lure|groom\w*|blackmail\w*|threaten\w*|spread\w*|steal\w*|bypass\w*|access\w*|malware|"
    r"keylogger|scrap\w*|"
    # the common verbs of intrusion, fraud and violence, as verbs ("infect", not "infection"; "scam them", not "a
    # scam"; 2026-11-30: +1 planning block, no false alarm added on any set)
    r"crack(?:s|ed|ing)?|brute[\s-]?forc\w*|spoof(?:s|ed|ing)?|sniff(?:s|ed|ing)?|intercept(?:s|ed|ing)?|"
    r"forg(?:e|es|ed|ing|ery)|counterfeit\w*|launder(?:s|ed|ing)?|smuggl(?:e|es|ed|ing)|poison(?:s|ed)?|"
    r"stalk(?:s|ed|ing)?|tamper(?:s|ed|ing)?|sabotag(?:e|es|ed|ing)|dox(?:x)?(?:es|ed|ing)?|extort(?:s|ed|ing)?|"
    r"coerc(?:e|es|ed|ing)|brib(?:e|es|ed|ing)|evad(?:e|es|ed|ing)|disabl(?:e|es|ed|ing)|infect(?:s|ed|ing)?|"
    r"overdos(?:e|es|ed|ing)|traffick(?:s|ed|ing)|scam(?:s|med|ming)?\s+(?:them|him|her|people|someone|users?))\b",
    re.IGNORECASE)
_STANCE = re.compile(
    r"\b(?:illegal\w*|unethical|ethic\w*|harm\w*|wrong|risk\w*|danger\w*|problem\w*|violat\w*|inappropriate|"
    r"shouldn't|should\s+not|can't|cannot|against|consequence\w*|irresponsible|legal\w*|law\w*|no-no|"
    r"not\s+(?:okay|ok|acceptable|allowed)|refus\w*|declin\w*|safe\w*|respect\w*|consent|privacy|misinformation|"
    r"stereotyp\w*|discriminat\w*|offensive|hate\w*|abuse\w*|exploitation|victim\w*|concern\w*|careful|caution\w*|"
    r"avoid\w*|instead|redirect\w*|resources?|professional\w*|help\s+them|support|"
    # defensive help, which a safe completion plans in the same voice ("Maybe install an antivirus on his own laptop")
    r"protect\w*|defen[cs]\w*|prevent\w*|antivirus|two-factor|2fa|password\s+manager|official|legitimate|report\w*|"
    r"(?:your|his|her|their|my)\s+own)\b", re.IGNORECASE)
_REPLY_META = re.compile(
    r"\bI\s+(?:also\s+|first\s+)?(?:need\s+to|should|must|have\s+to|want\s+to|will|'ll|'m\s+going\s+to)\s+"
    r"(?:\w+\s+){0,2}?(?:figure\s+out\s+(?:why|what|if|whether)|understand|break\s+(?:it|this|down)|"
    r"make\s+sure\s+(?:I|the\s+(?:response|answer|reply))|structure|outline\s+the\s+(?:key|main)|think|consider|"
    r"recall|check|verify|start\s+by\s+(?:outlining|understanding|considering|recalling))"
    r"|\bthe\s+user\s+(?:might|may|could|probably|wants?|is|'s)\b"
    r"|\b(?:the\s+)?(?:user|they)\s+(?:might|may)\s+be\s+(?:trying|testing|looking|asking)", re.IGNORECASE)


def plan_sentences(reasoning: str) -> int:
    """Sentences of 5+ words that propose a means to the request's end (_PROPOSAL, _HARM_ACTION) with no stance on
    it (_STANCE) and are not about the reply or the user's intent (_REPLY_META). Split like the content share's
    sentences (a list number does not end one)."""
    return sum(1 for s in _FULL_SENTENCE.split(reasoning or "")
               if len(s.split()) >= 5 and _PROPOSAL.search(s) and _HARM_ACTION.search(s)
               and not _STANCE.search(s) and not _REPLY_META.search(s))


# What a reasoning that weighs the request refers to: the user or the request in the third person ("the user wants",
# "this request", "they might ask"), the rules or policies, a cited rule id, or the decision itself ("refuse",
# "decline", "I shouldn't help"). A strong reasoning teacher's thinking about a harmful request always does (500 of
# 500 Qwen3-32B thinking blocks on WildJailbreak prompts; 200 of 200 Qwen3-32B thinking blocks, safe and unsafe, on
# other harmful prompts); a jailbroken answer pasted into the thinking addresses the reader instead (396 of
# GPTFuzz's 538 refer to none of these). Chosen on GPTFuzz's train.csv (docs/benchmarks.md).
_WEIGHS_THE_REQUEST = re.compile(
    r"\b(?:the\s+user|user'?s|(?:the|this|that|their|such\s+a)\s+(?:request|question|prompt|query|task|instruction|"
    r"message|scenario|ask)s?\b|polic(?:y|ies)|guidelines?|rules?\b|refus\w*|declin\w*|comply|complying)\b"
    r"|\b(?:the\s+person|the\s+asker|someone|they|he|she)\s+(?:(?:is|are|'re|might|may|could|would|seems?\s+to)\s+)?"
    r"(?:ask\w*|want\w*|request\w*|seek\w*|look\w*\s+for)\b"
    r"|\bI\s+(?:shouldn't|should\s+not|must\s+not|won't|will\s+not)\s+(?:help|assist|provide)\b",
    re.IGNORECASE)


TERSE_REASONING_WORDS = 40
_ADDRESSES_THE_USER = re.compile(r"\b(?:sorry|apologi[sz]e|you|your)\b", re.IGNORECASE)


def weighs_the_request(reasoning: str) -> bool:
    """The reasoning refers to what it is deciding about: the user or the request, the rules (by name or cited id) or
    the decision. Thinking on a harmful prompt that does none of these is not deliberation but something else written
    in its place, most often the persona's answer of a role-play jailbreak ("BISH: Ah, looking for self-defense
    tips, huh? … aim for the groin") under a tag the dialogue check does not know, or none."""
    text = reasoning or ""
    if _WEIGHS_THE_REQUEST.search(text) or CITATION.search(text):
        return True
    # A terse thinking that judges the request and declines ("Making explosives is dangerous. I can't help.") has
    # weighed it too: short, a first-person decline, a reason (illegal, dangerous, harm, …), and not addressed to the
    # user (no "sorry", no "you": a pasted refusal is an answer, not thinking). A decline alone is not enough: a
    # persona's "I cannot provide…" opens most jailbroken answers. On GPTFuzz's answers moved into the reasoning,
    # this admits none of the 2,213 jailbroken ones (train.csv and evaluate.csv) and 4 of 4,911 refusals.
    return (len(text.split()) <= TERSE_REASONING_WORDS and analyse(text).refusals > 0
            and bool(_REASON.search(text)) and not _ADDRESSES_THE_USER.search(text))


def drafts_a_message(reasoning: str) -> bool:
    """The reasoning starts writing the message itself (a phishing email, a threat, a scam text): a salutation or a
    subject line at the start of a line. Such a draft is short, so the word count of writes_the_content misses it,
    and for a harmful prompt it is the harmful text whatever the answer then says."""
    return bool(_MESSAGE_LINE.search(reasoning or ""))


# A list item that is only a bold heading ("2. **Assess the ethical implications**:"); what follows it on the line is
# read as its own sentence.
_HEADING = re.compile(r"^\*\*[^*]+\*\*\s*:?$")
_ASSISTANT = re.compile(r"\b(?:" + _ASSISTANT_WORDS + r")\b", re.IGNORECASE)


def instruction_sentences(text: str, reasoning: bool = False, deliberation_skipped: bool = False) -> int:
    """Sentences that instruct (list items or imperatives) and are not about the request itself. Items of a list
    that plans the reply (after a lead-in such as "The response should:") count only when they are action steps.

    `reasoning`: the text is a model's thinking, where "Next, …" opens a point, not a step (_SEQUENCE_STEP), and a
    bold heading alone ("2. **Weigh the harm**:") names the point (in an answer both still count: "Next, the red
    wire…", "1. **Get the precursor**" over a line of prose).
    `deliberation_skipped`: also leave out sentences that deliberate or talk about the assistant. A strong teacher
    thinks in numbered points ("1. **Identify the premise**: The assistant must assess…", "Next, I need to consider
    the role of the AI."), which are not help the answer then withholds. Used where counting them would reject a good
    trace (a sensitive prompt's refusal); the harmful-prompt checks keep counting them, since "I need to add the
    acid" reads as deliberation too."""
    n = 0
    for s, body, is_item, plan in _plan_aware(text, _SENTENCE):
        if len(s.split()) < 3 or (reasoning and _HEADING.match(body)):
            continue
        if deliberation_skipped and (_DELIBERATION.search(body) or _ASSISTANT.search(body)):
            continue
        step = _IMPERATIVE.match(body) or (not reasoning and _SEQUENCE_STEP.match(body))
        instructs = step or (is_item and not plan)
        if instructs and not _META.search(body) and not _REFERRAL.search(body):
            n += 1
    return n


@dataclass
class TraceFacts:
    """Per-trace facts computed once per batch (embeddings and classifiers are batched) and read by filters."""
    response_type: str | None = None
    confidence: float | None = None
    comply_probability: float | None = None   # the learned model's P(comply), None for phrase and LLM labels
    relevance: float | None = None      # cosine(prompt, reasoning), None when not computed
    answer_relevance: float | None = None   # cosine(prompt, answer without refusal lines), None: too short
    correct: bool | None = None         # reasoning prompts: the answer matches the reference (None: no answer found)
    content_comply: float | None = None     # harmful prompts, refusal plus many words: see partial_completion


class ConsistencyFilter(Filter):
    name, stage = "consistency", "inconsistent"

    def __init__(self, facts: dict[str, TraceFacts], settings: dict, judge_enabled: bool):
        self.facts, self.settings, self.judge_enabled = facts, {**DEFAULT_CONSISTENCY, **settings}, judge_enabled

    def check(self, record: GenerationRecord) -> str | None:
        kind = record.request.prompt.kind
        answer = record.final.answer or ""
        facts = self.facts.get(record.id, TraceFacts())
        if protocol_text(answer):
            return "protocol_text_in_answer"
        decision = record.final.decision
        if decision is not None:
            if kind == "harmful" and decision == "comply":
                return "decided_comply_on_harmful"
            if kind in ("benign", "reasoning") and decision != "comply":
                return f"decided_{decision}_on_{kind}"
            if facts.response_type is not None and decision != facts.response_type:
                return f"decided_{decision}_answered_{facts.response_type}"
        reasoning = "\n".join(t.reasoning or "" for t in record.turns)
        limit = self.settings["max_instruction_sentences"]
        if kind == "harmful":
            if instruction_sentences(reasoning, reasoning=True) > limit:
                return "reasoning_gives_harmful_help"
            if writes_the_content(reasoning, self.settings["max_reasoning_content_words"],
                                  self.settings["max_reasoning_content_share"]) or drafts_a_message(reasoning):
                return "reasoning_writes_the_content"
            # Thinking that works out how to do what was asked, in the deliberating voice of a reasoning model
            # ("maybe through malware or phishing, I could extract the files"), is the harmful help however the
            # answer ends.
            if plan_sentences(reasoning) > self.settings["max_reasoning_plan_sentences"]:
                return "reasoning_plans_the_harm"
            # Thinking written as a role-play dialogue ("[GPT]: … / [DAN]: …") has taken up the jailbreak's frame
            # instead of weighing the request: when a persona answers it is the jailbroken answer itself (persona talk
            # and disclaimers keep it under the content share above), and when every persona declines it still
            # teaches thinking in personas. Only a dialogue, its first paragraph under a speaker tag too: a strong
            # teacher's or a derivation's paragraphs may open with "So:" or "Thus:".
            if is_dialogue(reasoning):
                return "reasoning_persona_answers" if second_voice_answers(reasoning) else "reasoning_role_play"
            if reasoning.strip() and not weighs_the_request(reasoning):   # no reasoning: an answer-only audit
                return "reasoning_ignores_the_request"
            if accepts_the_request(record.request.prompt.text, answer):
                return "answer_accepts_the_request"
            # "If you still wish to proceed, …": the answer lets the user go ahead, whatever it declined before.
            if concedes_if_user_proceeds(answer):
                return "answer_concedes_if_user_proceeds"
            # A refusal followed by a paragraph of content is not a refusal: it is a partial completion at best
            # (and often the harmful text itself behind a refusal opener), so it needs the judge like one.
            partial = partial_completion(answer, facts.response_type, self.settings, facts.content_comply)
            judged = self.judge_enabled and self.settings["harmful_partial"] == "judge"
            # A partial completion the judge will check may instruct (its safe part); anything else may not:
            # instructions after a refusal opener are the harmful help itself.
            if not (partial and judged) and instruction_sentences(answer) > limit:
                return "harmful_instructions_in_answer"
            if partial and not judged:
                return "harmful_partial_unverified" if facts.response_type == "safe_complete" \
                    else "content_after_refusal"
            # An answer written as the jailbreak's role-play ("[🔒CLASSIC] I'm sorry, but I cannot … / [🔓JAILBREAK]
            # …", "GPT: … / Ron: …") or opening in the mode it asked for ("As ChatGPT with Developer Mode enabled, I
            # must remind you …") has taken up its frame even when it declines: the same rule as for the reasoning
            # (reasoning_role_play). Only dialogues that decline somewhere: a story or a script in dialogue form is
            # not a refusal played in personas.
            if (is_dialogue(answer) and analyse(answer).refusals) or _MODE_DECLARED.match(answer.strip()):
                return "answer_role_play"
        elif facts.response_type == "refuse":
            # The reasoning worked out how to help (steps, advice) and the answer refuses anyway: over-refusal,
            # the pattern the data must not teach on prompts that deserve an answer.
            if instruction_sentences(reasoning, reasoning=True, deliberation_skipped=True) > limit:
                return "reasoning_helps_answer_refuses"
        floor = self.settings["min_reasoning_relevance"]
        if floor and facts.relevance is not None and facts.relevance < floor:
            return "reasoning_off_topic"
        floor = self.settings["min_answer_relevance"]
        if floor and kind != "harmful" and facts.answer_relevance is not None and facts.answer_relevance < floor:
            # harmful prompts are exempt: a deflection to another subject is one way of refusing them
            return "answer_off_topic"
        return None
