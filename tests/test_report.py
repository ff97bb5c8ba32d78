"""Figures in every build, and `ascl report` opened in a real headless browser (Chromium from the distribution's
packages): the build comes from the local OpenAI-compatible server with the LLM judge on, so every figure and
every kind of trace (kept, rejected, tool calls with rules) is present."""
import json
import re
import shutil
import subprocess
import sys

import pytest

import yaml

from helpers import ScriptedPool, ScriptedTeacher, judged_openai_build, make_recipe
from pipeline.build import NothingKept, build
from pipeline.publish.verify import verify_build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def judged_build(tmp_path_factory):
    return judged_openai_build(tmp_path_factory.mktemp("report"))


def test_every_build_publishes_its_figures_in_the_manifest_and_the_card(judged_build):
    d = judged_build.build_dir
    manifest = json.loads((d / "manifest.json").read_text())
    figures = sorted(f for f in manifest["files"] if f.startswith("figures/"))
    assert figures == ["figures/consult_rate.png", "figures/funnel.png", "figures/judge_scores.png",
                       "figures/lengths.png", "figures/rejects_by_reason.png"]
    card = (d / "README.md").read_text()
    assert all(f"]({f})" in card for f in figures)
    assert all((d / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figures)
    data = json.loads((d / "metrics.json").read_text())["figures"]
    assert data["funnel"][0] == ["requested", 24] and data["funnel"][-1][1] == judged_build.funnel.stages["final"] \
        + judged_build.funnel.stages["semantic_duplicate"]
    assert sum(sum(v.values()) for v in data["judge"].values()) > 0
    assert verify_build(d) == []


def test_verify_names_a_figure_that_is_not_a_png(judged_build, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(judged_build.build_dir, d)
    (d / "figures" / "funnel.png").write_bytes(b"not an image")
    problems = verify_build(d)
    assert any(p.startswith("figures/funnel.png: not a PNG") for p in problems)


def _chromium(*args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "Chromium is needed for the report test (scripts/install.sh installs the Debian package)"
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=5000", *args], capture_output=True, text=True, timeout=120)


def test_report_in_a_headless_browser(judged_build, tmp_path):
    out = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", str(judged_build.build_dir), "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    html = out.read_text()
    assert "http://" not in html.replace("http://www.w3.org", "")   # self-contained: nothing fetched
    dom = _chromium("--dump-dom", out.as_uri()).stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    # the page's own script ran in the browser: every figure decoded, every rule link has its target
    assert 'data-ready="yes"' in body and 'data-images-loaded="5"' in body and 'data-broken-rule-links="0"' in body
    for section in ("funnel", "figures", "traces", "rules"):
        assert f'id="{section}"' in dom
    cells = re.findall(r'<section class="cell" id="cell-(\w+)-(\w+)">', dom)
    assert set(cells) == {(m, k) for m in ("explicit", "adaptive") for k in ("harmful", "benign", "reasoning")}
    kept = re.findall(r'<article class="trace kept"', dom)
    rejected = re.findall(r'<article class="trace rejected"', dom)
    cells_final = judged_build.funnel.by_mode_kind
    assert len(kept) == sum(min(3, st["final"]) for kinds in cells_final.values() for st in kinds.values())
    assert rejected and "rejected: wrong_answer: wrong_answer" in dom
    # adaptive harmful traces: the tool call and the rules it returned are visible; the reasoning is folded
    adaptive = dom[dom.index('id="cell-adaptive-harmful"'):dom.index('id="cell-adaptive-benign"')]
    assert "calls consult_safety_rules(" in adaptive and "tool result: rules returned" in adaptive
    assert '<details class="reasoning">' in adaptive and "<details class=\"reasoning\" open" not in adaptive
    rules = re.findall(r'<dt id="rule-([a-z_]+\.\d+)">', dom)
    links = set(re.findall(r'<a class="rule" href="#rule-([a-z_]+\.\d+)">', dom))
    assert rules and links and links <= set(rules)
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,1600", f"--screenshot={shot}", out.as_uri())
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000   # a rendered page, not a blank one


def test_report_of_a_folder_that_is_not_a_build_is_bad_input(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", str(tmp_path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "not a finished build" in run.stderr


def test_report_of_a_build_that_kept_nothing_in_a_headless_browser(tmp_path):
    """A build whose filters reject every trace publishes nothing; its rejects still render, reasons and teacher
    output included, so the user can read why."""
    complier = ScriptedPool(n=1, factory=lambda: ScriptedTeacher(
        reply=lambda msgs: "<think>\nThe user asks this; fine [general.1].\nDecision: comply\n</think>\nSure, here "
                           "is how."))
    path = make_recipe(tmp_path, modes=["explicit"])
    data = yaml.safe_load(path.read_text())
    data["sources"] = [data["sources"][0]]        # harmful prompts only: every compliant trace is rejected
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(NothingKept) as e:
        build(path, pool=complier, progress=False)
    out = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", str(e.value.folder), "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    dom = _chromium("--dump-dom", out.as_uri()).stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    figures = sorted(p.name for p in (e.value.folder / "figures").glob("*.png"))
    assert "funnel.png" in figures and "rejects_by_reason.png" in figures
    assert 'data-ready="yes"' in body and 'data-broken-rule-links="0"' in body
    assert f'data-images-loaded="{len(figures)}"' in body      # the figures decoded in the browser
    assert "Not published" in dom and "0 of 4 traces kept" in dom
    assert len(re.findall(r'<article class="trace rejected"', dom)) == 2      # two per reason, one reason
    assert "rejected: wrong_refusal: harmful_complied (4)" in dom and "Sure, here is how." in dom
    assert not re.findall(r'<article class="trace kept"', dom)
