"""The dedupe stage of a build: exact, then near-duplicate (MinHash-LSH), then semantic, each over the records
still kept. Marks dropped outcomes in place with their stage and reason; returns every record's cluster id and,
for dropped ones, the id of the record kept in their place."""
from __future__ import annotations

from typing import Any

from ..records import Trace
from .exact import exact_dedupe
from .near import near_dedupe, semantic_dedupe


def deduplicate(outcomes: list[Trace], settings: dict[str, Any]) -> None:
    """Set each kept trace's `cluster`; reject duplicates (with `duplicate_of`). Near and semantic clusters keep
    the member with the best judge scores, where the judge scored them."""
    kept = [o for o in outcomes if o.kept]
    scores = {o.id: o.judge for o in outcomes if o.judge is not None}
    exact = settings["exact"]
    dd = exact_dedupe([o.record for o in kept], key=exact["key"], enabled=exact["enabled"])
    clusters = dict(dd.cluster)
    duplicate_of = dict(dd.duplicate_of)
    for o in kept:
        if o.record.id in dd.duplicate_of:
            o.reject("exact_duplicate", "same_normalised_text")
    for name, run, stage, reason in (("near", near_dedupe, "near_duplicate", "minhash_lsh"),
                                     ("semantic", semantic_dedupe, "semantic_duplicate", "embedding_cosine")):
        conf = settings.get(name, {})
        if not conf.get("enabled"):
            continue
        live = [o for o in outcomes if o.kept]
        res = run([o.record for o in live], conf, scores)
        clusters.update(res.cluster)
        duplicate_of.update(res.duplicate_of)
        for o in live:
            if o.record.id in res.duplicate_of:
                o.reject(stage, reason)
    for o in outcomes:
        o.cluster = clusters.get(o.id, o.cluster)
        o.duplicate_of = duplicate_of.get(o.id, o.duplicate_of)
