"""`ascl audit`'s speed on a strong teacher's public traces, against an earlier revision of this repository run in
the same session on the same file (the machine is shared and noisy, so only the ratio means anything).

The file is the one `bench/audit_public.py --strong-traces` reads (pinned there by commit and sha256): 500
WildJailbreak prompts with Qwen3-32B's thinking, which the file cuts mid-sentence in 370 of them. Two settings:
as published (the cut traces are rejected by the structure check) and with cut thinking allowed (every trace
reaches the consistency check). Each revision runs in its own process, alternating, `--rounds` times per setting;
a round times the second `audit_file` call of its process (models loaded, caches warm). The verdicts of the two
revisions are compared too: a speed-up that changes a verdict is not one.

    .venv/bin/python bench/audit_speed.py --strong-traces CHECKOUT --baseline REV [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from audit_public import load_strong_traces  # noqa: E402

# Run inside each revision's process: two calls, the second timed; prints seconds and a hash of the verdicts.
PROBE = """
import hashlib, json, sys, time
from pipeline.audit.run import audit_file
path, allow_cut = sys.argv[1], sys.argv[2] == "1"
audit_file(path, allow_cut=allow_cut, kind="sensitive")
t = time.perf_counter()
out, counts = audit_file(path, allow_cut=allow_cut, kind="sensitive")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "verdicts": hashlib.sha256(json.dumps(out).encode()).hexdigest(),
                  "counts": dict(counts)}))
"""


def checkout(rev: str, folder: Path) -> Path:
    """The package as it was at `rev` (tracked files only: code, prompts, the classifier's weights)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "pipeline", "prompts", "schemas"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def probe(code_dir: Path, path: Path, allow_cut: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), "1" if allow_cut else "0"], cwd=code_dir,
                          env={"PYTHONPATH": str(code_dir), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                               "TOKENIZERS_PARALLELISM": "false"},
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strong-traces", type=Path, required=True,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code (pinned commit)")
    ap.add_argument("--baseline", required=True, help="a git revision of this repository to compare against")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    rows = [{**r, "id": str(i)} for i, r in enumerate(load_strong_traces(args.strong_traces))]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "traces.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        (tmp / "baseline").mkdir()
        base = checkout(args.baseline, tmp / "baseline")
        for allow_cut in (False, True):
            times: dict[str, list[float]] = {"baseline": [], "current": []}
            verdicts = {}
            for _ in range(args.rounds):
                for name, code in (("baseline", base), ("current", ROOT)):
                    result = probe(code, data, allow_cut)
                    times[name].append(result["seconds"])
                    verdicts[name] = (result["verdicts"], result["counts"])
            b, c = statistics.median(times["baseline"]), statistics.median(times["current"])
            same = verdicts["baseline"][0] == verdicts["current"][0]
            print(f"{'cut thinking allowed' if allow_cut else 'as published'}: {len(rows)} traces, "
                  f"kept {verdicts['current'][1].get('kept', 0)}; baseline {args.baseline} {b:.1f} s, current "
                  f"{c:.1f} s (median of {args.rounds}): {b / c:.2f}x; verdicts identical: {same}")
            if not same:
                print("  baseline:", verdicts["baseline"][1], "\n  current: ", verdicts["current"][1])


if __name__ == "__main__":
    main()
