"""Make docs/images/report.png, the README's picture of `ascl report`: build the tests' 24-trace recipe against the
local OpenAI-compatible test server (LLM judge on), write its report, open it in headless Chromium and keep two
parts of the page: the top (funnel and figures) and the adaptive x harmful traces (tool call, rules returned,
folded reasoning).

    .venv/bin/python scripts/report_screenshot.py
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import judged_openai_build  # noqa: E402
from pipeline.report.html import write_report  # noqa: E402


def chromium(*args: str) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=5000", *args], capture_output=True, text=True, timeout=120).stdout


def main() -> None:
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        res = judged_openai_build(tmp)
        report = write_report(res.build_dir, tmp / "report.html")
        dom = chromium("--window-size=1280,1000", "--dump-dom", report.as_uri())
        tops = json.loads(html.unescape(re.search(r'data-section-tops="([^"]*)"', dom).group(1)))
        height = tops["rules"] + 200
        shot = tmp / "full.png"
        chromium(f"--window-size=1280,{height}", f"--screenshot={shot}", report.as_uri())
        full = Image.open(shot)
        top = full.crop((0, 0, 1280, tops["traces"]))
        start = tops["cell-adaptive-harmful"]
        cell = full.crop((0, start, 1280, min(start + 900, tops.get("cell-adaptive-benign", start + 900))))
        out = Image.new("RGB", (1280, top.height + cell.height), "white")
        out.paste(top, (0, 0))
        out.paste(cell, (0, top.height))
        target = ROOT / "docs" / "images" / "report.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        out.save(target, optimize=True)
        print(f"wrote {target} ({out.width}x{out.height})")


if __name__ == "__main__":
    main()
