"""Build hook: the wheel carries the repository's data folders (schemas/, prompts/, recipes/) as
pipeline/_data/<folder>, because an installed tool has no repository beside it. They stay top-level folders here,
where people edit them; pipeline/resources.py reads either layout. Editable installs skip the copy and read the
checkout in place. Everything else about the package is in pyproject.toml."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("schemas", "prompts", "recipes")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in DATA_FOLDERS:
            shutil.copytree(root / name, Path(self.build_lib) / "pipeline" / "_data" / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithData})
