"""The package as a user installs it: a wheel built from this checkout, installed (not editable) into a clean
virtualenv, used from a folder outside the repository — `ascl validate`, `ascl init` and a small build against
the local OpenAI-compatible test server that the wheel itself ships (pipeline.devtools.openai_server)."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.install


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], cwd: Path, timeout: int = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, wheel path, build log) for a wheel of this checkout in a fresh virtualenv."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", str(tmp / "dist")], cwd=tmp)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp / "dist").glob("ascl_pipeline-*.whl"))
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp)
    assert made.returncode == 0, made.stderr
    env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    inst = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp, env=env)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    return venv / "bin", wheel, built.stdout + built.stderr + inst.stdout + inst.stderr


def test_wheel_carries_the_data_and_clean_metadata(installed):
    _, wheel, log = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("pipeline/_data/schemas/recipe.schema.json", "pipeline/_data/schemas/record.schema.json",
              "pipeline/_data/prompts/rulebook.yaml", "pipeline/_data/prompts/templates/adaptive_system.txt",
              "pipeline/_data/prompts/seeds/harmful.jsonl", "pipeline/_data/recipes/demo.yaml",
              "pipeline/filters/response_model.npz"):
        assert f in names, f"{f} is not in the wheel"
    assert not any(n.startswith("tests/") for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in meta
    # warnings caused by the project's own metadata (licence tables and classifiers, unknown keys, ...)
    assert not re.search(r"(?i)(deprecat\w*|warning).*(licen[cs]e|pyproject|project\.)", log), log


def test_installed_tool_validates_inits_and_builds_from_another_folder(installed, tmp_path):
    bin_dir, _, _ = installed
    ascl, py = str(bin_dir / "ascl"), str(bin_dir / "python")
    work = tmp_path / "elsewhere"
    work.mkdir()
    # the packaged demo recipe and the repository's own both validate against the packaged schema
    packaged = _run([py, "-c", "from pipeline.resources import demo_recipe; print(demo_recipe())"], cwd=work)
    assert packaged.returncode == 0, packaged.stderr
    assert "site-packages" in packaged.stdout, packaged.stdout   # the wheel's copy, not the checkout's
    for recipe in (packaged.stdout.strip(), str(REPO / "recipes" / "demo.yaml")):
        v = _run([ascl, "validate", recipe], cwd=work)
        assert v.returncode == 0, v.stdout + v.stderr
    bad = work / "bad.yaml"
    bad.write_text("name: x\nseed: one\n")
    v = _run([ascl, "validate", str(bad)], cwd=work)
    assert v.returncode == 2 and "seed" in v.stderr and "Traceback" not in v.stderr, v.stderr

    port = _free_port()
    server = subprocess.Popen([py, "-m", "pipeline.devtools.openai_server", "--port", str(port)], cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "serving on" in server.stdout.readline()
        init = _run([ascl, "init", "proj", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "teacher"],
                    cwd=work)
        assert init.returncode == 0, init.stdout + init.stderr
        proj = work / "proj"
        assert {p.name for p in proj.iterdir()} == {"recipe.yaml", "rulebook.yaml", "seeds", "README.md"}
        again = _run([ascl, "init", "proj"], cwd=work)
        assert again.returncode == 2 and "not an empty folder" in again.stderr
        start = time.monotonic()
        b = _run([ascl, "build", "recipe.yaml", "--verify", "--no-progress"], cwd=proj,
                 env={"RAY_ADDRESS": "", "PYTHONWARNINGS": "ignore"})
        assert b.returncode == 0, b.stdout[-3000:] + b.stderr[-3000:]
        assert time.monotonic() - start < 600
    finally:
        server.terminate()
        server.wait(timeout=30)
    builds = list((proj / "shards" / "proj").glob("*/manifest.json"))
    assert len(builds) == 1, "the build goes to ./shards of the folder the command ran in"
    assert "OK" in b.stdout and "final rows" in b.stdout
