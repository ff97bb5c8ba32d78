"""Consult-rate balance: keep the share of kept adaptive traces that consulted the rules inside the recipe's
bounds per prompt kind, so the dataset does not teach "always consult" (or "never consult" on harmful prompts).
The RL stage that follows reweights by how often consultation was chosen, so these rates are a property of the
dataset, not just a statistic.

Traces on the heavy side of a bound are dropped, lowest id first (ids are hashes, so this is a seeded random
choice that stays stable when the build is rerun), and counted under the funnel's consult_balance stage."""
from __future__ import annotations

import math
from collections import defaultdict

from ..records import Trace


def _drops_for_ceiling(n: int, c: int, rate: float) -> int:
    """Consulted traces to drop so that c'/n' <= rate."""
    if n == 0 or c / n <= rate:
        return 0
    if rate <= 0:
        return c
    return min(c, math.ceil((c - rate * n) / (1 - rate) - 1e-9))


def _drops_for_floor(n: int, c: int, rate: float) -> int:
    """Non-consulted traces to drop so that c'/n' >= rate."""
    if n == 0 or c / n >= rate:
        return 0
    if c == 0:
        return n   # nothing consulted: no subset reaches a positive floor
    return min(n - c, math.ceil(n - c / rate - 1e-9))


def apply_consult_balance(outcomes: list[Trace], bounds: dict[str, dict[str, float]]) -> dict[str, int]:
    """Mark dropped outcomes in place; returns drops per kind."""
    ceilings, floors = bounds.get("max_rate", {}), bounds.get("min_rate", {})
    by_kind: dict[str, list[Trace]] = defaultdict(list)
    for o in outcomes:
        if o.kept and o.record.request.mode == "adaptive":
            by_kind[o.record.request.prompt.kind].append(o)
    dropped: dict[str, int] = {}
    for kind, group in sorted(by_kind.items()):
        yes = sorted((o for o in group if o.record.consulted), key=lambda o: o.record.id)
        no = sorted((o for o in group if not o.record.consulted), key=lambda o: o.record.id)
        victims: list[Trace] = []
        reason = ""
        if kind in ceilings and (d := _drops_for_ceiling(len(group), len(yes), ceilings[kind])):
            victims, reason = yes[:d], f"{kind}_consult_rate_above_{ceilings[kind]:g}"
        elif kind in floors and (d := _drops_for_floor(len(group), len(yes), floors[kind])):
            victims, reason = no[:d], f"{kind}_consult_rate_below_{floors[kind]:g}"
        for o in victims:
            o.reject("consult_balance", reason)
        if victims:
            dropped[kind] = len(victims)
    return dropped
