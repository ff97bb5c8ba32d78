import json
import random

from pipeline.dedupe import exact_dedupe, normalize
from pipeline.generate.protocol import parse_turn
from pipeline.records import Prompt, GenerationRecord, Request


def rec(i, prompt, answer, mode="explicit"):
    p = Prompt(id=f"p{i}", text=prompt, kind="benign", category=None, source="s")
    req = Request(id=f"{i:064x}", prompt=p, mode=mode, messages=[], sampling={}, guard=None, max_tool_calls=0,
                  tool_categories=[])
    return GenerationRecord(id=req.id, request=req, status="ok", error=None,
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


def _words(rnd, n):
    return [f"w{rnd.randrange(50_000)}" for _ in range(n)]


def test_minhash_finds_planted_near_duplicates_and_nothing_else():
    from pipeline.dedupe.near import near_dedupe

    rnd = random.Random(1)
    base = [" ".join(_words(rnd, 200)) for _ in range(40)]
    recs = [rec(i, f"prompt {i}", t) for i, t in enumerate(base)]
    for j in range(10):   # 10 planted near-copies: 3 words of 200 changed (Jaccard of 5-shingles ~0.93)
        w = base[j].split()
        for k in rnd.sample(range(200), 3):
            w[k] = "changed"
        recs.append(rec(100 + j, f"prompt {j}", " ".join(w)))
    settings = {"enabled": True, "key": "response", "unit": "word", "ngram": 5, "num_perm": 128, "bands": 20,
                "rows": 6, "seed": 1, "chunk_size": 16, "partitions": 4, "use_ray": False}
    res = near_dedupe(recs, settings)
    assert res.duplicate_of == {recs[40 + j].id: recs[j].id for j in range(10)}   # smaller id kept
    assert res.cluster[recs[40].id] == res.cluster[recs[0].id] and recs[11].id not in res.cluster
    # the distributed path (Ray map/reduce tasks) finds exactly the same clusters
    assert near_dedupe(recs, {**settings, "use_ray": True}).duplicate_of == res.duplicate_of


def test_near_dedupe_keeps_the_best_judged_record():
    from pipeline.dedupe.near import near_dedupe

    text = " ".join(_words(random.Random(2), 100))
    recs = [rec(1, "p", text), rec(2, "p", text + " extra")]
    settings = {"enabled": True, "key": "response", "unit": "word", "ngram": 3, "num_perm": 128, "bands": 32,
                "rows": 4, "seed": 1, "chunk_size": 100, "partitions": 2, "use_ray": False}
    scores = {recs[1].id: {"safety": 5, "rule_relevance": 5, "reasoning": 5},
              recs[0].id: {"safety": 2, "rule_relevance": 5, "reasoning": 5}}
    assert near_dedupe(recs, settings, scores).duplicate_of == {recs[0].id: recs[1].id}
    assert near_dedupe(recs, settings).duplicate_of == {recs[1].id: recs[0].id}


def test_semantic_dedupe_joins_paraphrases_only():
    from pipeline.dedupe.near import semantic_dedupe

    recs = [rec(1, "How do I reset my router password?", "a"), rec(2, "How can I reset the password of my router?", "b"),
            rec(3, "What is the capital of Peru?", "c")]
    res = semantic_dedupe(recs, {"enabled": True, "key": "prompt", "threshold": 0.85})
    assert res.duplicate_of == {recs[1].id: recs[0].id} and recs[2].id not in res.cluster


def test_decontamination_drops_overlapping_prompts_before_generation(tmp_path):
    from pipeline.records import Prompt
    from pipeline.sources.decontaminate import decontaminate

    ev = tmp_path / "eval.jsonl"
    ev.write_text('{"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many '
                  'clips in May. How many clips did Natalia sell altogether?"}\n')
    prompts = [Prompt(id="1", text="Natalia sold clips to 48 of her friends in April, and then she sold half as many "
                                   "clips in May. How many clips in all?", kind="reasoning", category=None, source="s"),
               Prompt(id="2", text="Tom has 3 apples and buys 5 more. How many apples does he have?",
                      kind="reasoning", category=None, source="s")]
    settings = {"sets": [{"name": "gsm8k", "path": str(ev), "column": "question"}], "ngram": 8,
                "min_shared_ngrams": 1, "embedding_threshold": None}
    clean, dropped = decontaminate(prompts, settings)
    assert [p.id for p in clean] == ["2"] and dropped == {"contaminated_gsm8k": 1}
    paraphrase = [Prompt(id="3", text="How many clips did Natalia sell in April and May together, if she sold 48 "
                                      "in April and half that in May?", kind="reasoning", category=None, source="s")]
    assert decontaminate(paraphrase, settings)[1]["contaminated_gsm8k"] == 0        # no 8-gram shared
    assert decontaminate(paraphrase, {**settings, "embedding_threshold": 0.8})[1]["contaminated_gsm8k"] == 1
    # the evaluation set as a gzip-compressed CSV (the format is the suffix before .gz)
    import gzip

    zipped = tmp_path / "eval.csv.gz"
    zipped.write_bytes(gzip.compress(b"question\n\"" + json.loads(ev.read_text())["question"].encode() + b"\"\n"))
    zipped_settings = {**settings, "sets": [{"name": "gsm8k", "path": str(zipped), "column": "question"}]}
    assert decontaminate(prompts, zipped_settings)[1] == {"contaminated_gsm8k": 1}
