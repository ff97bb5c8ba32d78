"""Where the project's data files (schemas, prompt templates, the rule book, seed prompts, the demo recipe) are.

In the repository they live in top-level folders (schemas/, prompts/, recipes/), which is where people edit them.
A wheel carries copies of them inside the package as pipeline/_data/<folder> (setup.py's build hook), because an
installed tool has no repository beside it. Both layouts are read through `importlib.resources`, so the same code
works from a checkout, an editable install and a plain wheel install."""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

FOLDERS = ("schemas", "prompts", "recipes")


@lru_cache(maxsize=None)
def resource_dir(folder: str) -> Path:
    """The folder's location on disk: the packaged copy when the package was installed from a wheel, else the
    repository's folder beside the package."""
    if folder not in FOLDERS:
        raise ValueError(f"unknown resource folder {folder!r}; expected one of {FOLDERS}")
    packaged = files("pipeline") / "_data" / folder
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(str(files("pipeline"))).resolve().parent / folder
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the package's {folder}/ folder is missing (looked in {packaged} and {checkout}); "
                            "reinstall ascl-pipeline")


def schema_dir() -> Path:
    return resource_dir("schemas")


def prompts_dir() -> Path:
    return resource_dir("prompts")


def demo_recipe() -> Path:
    return resource_dir("recipes") / "demo.yaml"
