"""ASCL data pipeline: builds safety-alignment chain-of-thought training sets.

Stages (one sub-package each): sources -> generate -> filters -> dedupe -> publish.
"""
from pathlib import Path

__version__ = "0.1.0"

# Project resources (schemas, prompts) live beside the package in the repository.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = PROJECT_ROOT / "schemas"
PROMPTS_DIR = PROJECT_ROOT / "prompts"
