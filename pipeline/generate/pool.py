"""A pool of generation workers on Ray: local Ray by default, a cluster via the recipe's ray.address or
RAY_ADDRESS. vLLM: one actor per engine, each holding the CPUs/GPUs it needs. OpenAI-compatible endpoints:
async actors, each with its own bounded concurrency."""
from __future__ import annotations

import math
import os
from typing import Any

from ..recipe import RecipeError, TeacherSpec
from ..util.secret import Secret, looks_like_key
from .teachers.model_store import resolve_model

# Each vLLM engine logs at INFO per request batch; keep the build's output readable.
_WORKER_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_LOGGING_LEVEL": "ERROR", "TOKENIZERS_PARALLELISM": "false"}


def ensure_ray(address: str | None = None) -> None:
    import ray

    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 ignore_reinit_error=True, log_to_driver=True, logging_level="WARNING")


def api_key(teacher: TeacherSpec, where: str = "teacher") -> Secret | None:
    """The endpoint's API key from the environment variable the recipe names (None when it names none)."""
    name = (teacher.api or {}).get("api_key_env")
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        shown = "named there" if looks_like_key(name) else name   # never echo what may be a pasted key
        raise RecipeError([(f"{where}.api.api_key_env", f"environment variable {shown} is not set")])
    return Secret(value)


class EnginePool:
    """Workers for one teacher spec. Create it once and reuse it across builds."""

    def __init__(self, teacher: TeacherSpec, ray_address: str | None = None):
        import ray

        from .worker import AsyncGenerationWorker, GenerationWorker, openai_factory, vllm_factory

        ensure_ray(ray_address)
        self.spec = teacher
        eng = teacher.engine
        self.batch_size: int = eng["batch_size"]
        if teacher.backend == "vllm":
            model = resolve_model(teacher.model, teacher.revision)
            env = {**_WORKER_ENV, "VLLM_CPU_KVCACHE_SPACE": str(eng["kv_cache_space_gib"])}
            actor = ray.remote(GenerationWorker).options(
                num_cpus=eng["cpus_per_engine"], num_gpus=eng["gpus_per_engine"], runtime_env={"env_vars": env},
                max_concurrency=2)   # two batches share the engine: the next one fills in as the current drains
            factory = vllm_factory(model.path, model.name, model.revision, eng)
            self.workers = [actor.remote(factory) for _ in range(eng["num_engines"])]
            self.in_flight = 3   # two batches sharing the engine, one queued: the engine never waits for the driver
        elif teacher.backend == "openai":
            api = teacher.api
            # Read here, where the user set it; passed as a Secret argument, not through Ray's runtime_env
            # (which Ray keeps and shows as metadata).
            key = api_key(teacher)
            actor = ray.remote(AsyncGenerationWorker).options(num_cpus=0, max_concurrency=1000)
            factory = openai_factory(teacher.model, teacher.revision, api, key)
            self.workers = [actor.remote(factory, api["native_tools"]) for _ in range(eng["num_engines"])]
            # Enough batches queued per worker to keep `concurrency` requests in flight.
            self.in_flight = math.ceil(api["concurrency"] / self.batch_size) + 1
        else:
            raise ValueError(f"unknown teacher backend {teacher.backend!r}")
        infos = ray.get([w.info.remote() for w in self.workers])
        self.info: dict[str, Any] = infos[0]

    def serves(self, teacher: TeacherSpec) -> bool:
        """Whether this pool runs the same teacher a recipe asks for (sampling may differ per request)."""
        return (self.spec.backend, self.spec.model, self.spec.revision, self.spec.engine, self.spec.api) == \
               (teacher.backend, teacher.model, teacher.revision, teacher.engine, teacher.api)

    def close(self) -> None:
        import ray

        for w in self.workers:
            ray.kill(w)
        self.workers = []
