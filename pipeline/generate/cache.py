"""The generation cache (<output_dir>/<recipe name>/cache/): finished records as small Parquet parts, each
written atomically as a batch completes. Keyed by request id, so any build of the recipe reads the ids already
present and asks the teacher only for the rest."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..records import GenerationRecord
from ..util.atomic import atomic_path
from ..util.hashing import canonical_json, sha256_obj

log = logging.getLogger("ascl.cache")
_SCHEMA = pa.schema([("id", pa.string()), ("status", pa.string()), ("record", pa.string())])


class GenerationCache:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._bad: set[Path] = set()

    def parts(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("part-*.parquet") if p not in self._bad) \
            if self.folder.is_dir() else []

    def _read(self, p: Path, columns: list[str] | None = None) -> pa.Table | None:
        """A part's table, or None for a part that cannot be read (truncated by a full disk, damaged): it is
        skipped with a warning, once, and its ids count as not generated, so they are asked for again."""
        try:
            return pq.read_table(p, columns=columns)
        except Exception as e:   # pyarrow raises several error types for a damaged file
            self._bad.add(p)
            log.warning("skipping unreadable cache part %s (%s: %s); its requests will be generated again",
                        p, type(e).__name__, e)
            return None

    def done_ids(self) -> set[str]:
        """Ids finished successfully; failed ones are asked again on a rerun."""
        done = set()
        for p in self.parts():
            if (table := self._read(p, ["id", "status"])) is None:
                continue
            t = table.to_pydict()
            done.update(i for i, s in zip(t["id"], t["status"]) if s == "ok")
        return done

    def write(self, records: list[GenerationRecord]) -> Path | None:
        if not records:
            return None
        table = pa.table({"id": [r.id for r in records], "status": [r.status for r in records],
                          "record": [canonical_json(r.to_dict()) for r in records]}, schema=_SCHEMA)
        path = self.folder / f"part-{time.time_ns()}-{sha256_obj([r.id for r in records])[:12]}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def load(self, ids: set[str] | None = None) -> list[GenerationRecord]:
        """All records, or those with the given ids (what one stage asked for), one per id (the first success
        wins, else the last failure), sorted by id so later stages do not depend on completion order. Rows are
        filtered by id before their JSON is decoded: the cache is shared by every build of a recipe name."""
        import pyarrow.compute as pc

        wanted = pa.array(sorted(ids), type=pa.string()) if ids is not None else None
        seen: dict[str, GenerationRecord] = {}
        for p in self.parts():
            if (table := self._read(p)) is None:
                continue
            if wanted is not None:
                table = table.filter(pc.is_in(table["id"], value_set=wanted))
            for row in table.to_pylist():
                old = seen.get(row["id"])
                if old is None or (old.status != "ok"):
                    seen[row["id"]] = GenerationRecord.from_dict(json.loads(row["record"]))
        return [seen[k] for k in sorted(seen)]
