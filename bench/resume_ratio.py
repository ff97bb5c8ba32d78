"""Resume: wall time of rerunning a finished build divided by the wall time of the build, in one run.

Two reruns are timed: `ascl build` on the finished build (it notices and does nothing), and `--force`, which
reads every record back from the generation cache, filters, dedupes and republishes with zero teacher calls.

    .venv/bin/python bench/resume_ratio.py [--recipe recipes/demo.yaml]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", default="recipes/demo.yaml")
    args = ap.parse_args()
    recipe = Path(args.recipe).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        data = yaml.safe_load(recipe.read_text())
        data["output_dir"] = tmp     # a fresh cache: the first build generates everything
        copy = recipe.parent / f".bench-resume-{Path(tmp).name}.yaml"   # same folder: relative paths still resolve
        copy.write_text(yaml.safe_dump(data, sort_keys=False))
        try:
            ascl = [sys.executable, "-m", "pipeline.cli", "build", "--no-progress", str(copy)]
            first, _ = timed(ascl)
            noop, out_noop = timed(ascl)
            force, out_force = timed(ascl + ["--force"])
        finally:
            copy.unlink()
    assert "finished build" in out_noop and "0 traces asked of the teacher" in out_force
    print(f"build                       {first:8.1f} s")
    print(f"rerun (finished, no-op)     {noop:8.1f} s   ratio {noop / first:.4f}")
    print(f"rerun --force (from cache)  {force:8.1f} s   ratio {force / first:.4f}")


if __name__ == "__main__":
    main()
