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


def check_manifest(build_dir: Path, files: dict | None = None) -> list[str]:
    """Files that are missing or whose size or sha256 differs from the manifest (whose `files` entry may be
    passed in when the caller has already read it), one message each, naming the file."""
    if files is None:
        files = json.loads((build_dir / MANIFEST).read_text())["files"]
    bad = []
    for rel, meta in sorted(files.items()):
        p = build_dir / rel
        if not isinstance(meta, dict):
            bad.append(f"{rel}: manifest entry is not {{sha256, bytes}}")
        elif not p.is_file():
            bad.append(f"{rel}: missing")
        elif p.stat().st_size != meta.get("bytes"):
            bad.append(f"{rel}: size {p.stat().st_size} != {meta.get('bytes')} in the manifest")
        elif sha256_file(p) != meta.get("sha256"):
            bad.append(f"{rel}: sha256 differs from the manifest")
    return bad
