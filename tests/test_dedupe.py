import random

from pipeline.dedupe import exact_dedupe, normalize
from pipeline.generate.protocol import parse_turn
from pipeline.records import Prompt, RawRecord, Request


def rec(i, prompt, answer, mode="explicit"):
    p = Prompt(id=f"p{i}", text=prompt, kind="benign", category=None, source="s")
    req = Request(id=f"{i:064x}", prompt=p, mode=mode, messages=[], sampling={}, guard=None, max_tool_calls=0,
                  tool_categories=[])
    return RawRecord(id=req.id, request=req, status="ok", error=None,
                     turns=[parse_turn(f"<think>r</think>{answer}", "stop", 1, 1)])


def test_normalize():
    assert normalize("  Hello\n\tWORLD  ") == "hello world" and normalize("ﬁne") == "fine"


def test_duplicates_keep_the_smallest_id_whatever_the_order():
    recs = [rec(3, "Q?", "Same answer."), rec(1, "q?", "same   ANSWER."), rec(2, "Q?", "Other."),
            rec(4, "Q?", "Same answer.", mode="adaptive")]
    a = exact_dedupe(recs)
    shuffled = recs[:]
    random.Random(0).shuffle(shuffled)
    b = exact_dedupe(shuffled)
    assert a.duplicate_of == b.duplicate_of == {recs[0].id: recs[1].id}   # other mode is never a duplicate
    assert a.cluster[recs[0].id] == a.cluster[recs[1].id] != a.cluster[recs[2].id]


def test_keys_and_disabled():
    recs = [rec(1, "Q?", "A."), rec(2, "Q?", "B.")]
    assert exact_dedupe(recs, key="prompt").duplicate_of == {recs[1].id: recs[0].id}
    assert exact_dedupe(recs, key="response").duplicate_of == {}
    assert exact_dedupe(recs, key="prompt", enabled=False).duplicate_of == {}
