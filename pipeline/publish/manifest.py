"""manifest.json: the sha256 and size of every file a build published. Written last: its presence marks a
complete build."""
from __future__ import annotations

import json
from pathlib import Path

from ..util.atomic import write_text
from ..util.hashing import sha256_file

MANIFEST = "manifest.json"


def write_manifest(build_dir: Path, files: list[Path], extra: dict) -> Path:
    entries = {str(p.relative_to(build_dir)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
               for p in sorted(files)}
    path = build_dir / MANIFEST
    write_text(path, json.dumps({**extra, "files": entries}, indent=2, sort_keys=True) + "\n")
    return path


def check_manifest(build_dir: Path) -> list[str]:
    """Files whose hash differs from the manifest, or that are missing."""
    data = json.loads((build_dir / MANIFEST).read_text())
    bad = []
    for rel, meta in data["files"].items():
        p = build_dir / rel
        if not p.is_file():
            bad.append(f"missing: {rel}")
        elif sha256_file(p) != meta["sha256"]:
            bad.append(f"changed: {rel}")
    return bad
