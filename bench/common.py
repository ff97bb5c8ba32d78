"""Shared helpers for the benchmarks: synthetic prompt sets, recipes in a temp folder, a server process."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def write_prompts(folder: Path, n: int) -> Path:
    path = folder / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Give me tidy-kitchen tip number {i}, please."}) + "\n"
                            for i in range(n)))
    return path


def write_recipe(folder: Path, teacher: dict[str, Any], **over: Any) -> Path:
    recipe = {"name": "bench", "seed": 1, "output_dir": str(folder / "out"),
              "sources": [{"name": "p", "path": "prompts.jsonl", "kind": "benign", "category": "fraud"}],
              "modes": ["explicit"], "rulebook": str(PROMPTS_DIR / "rulebook.yaml"), "teacher": teacher,
              "format_guard": {"enabled": False}}
    recipe.update(over)
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    """The local OpenAI-compatible server in its own process (its own core, not the client's)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.devtools.openai_server", "--port", str(port),
                             "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "serving" not in line:
        raise RuntimeError(f"server did not start: {line!r}")
    time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}/v1"
