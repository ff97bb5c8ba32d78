"""A pool of generation workers on Ray: local Ray by default, a cluster when RAY_ADDRESS is set."""
from __future__ import annotations

import os
from typing import Any

from ..recipe import TeacherSpec
from .teachers.model_store import resolve_model

# Each vLLM engine logs at INFO per request batch; keep the build's output readable.
_WORKER_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_LOGGING_LEVEL": "ERROR", "TOKENIZERS_PARALLELISM": "false"}


def ensure_ray() -> None:
    import ray

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 ignore_reinit_error=True, log_to_driver=True, logging_level="WARNING")


class EnginePool:
    """N GenerationWorker actors for one teacher spec. Create it once and reuse it across builds."""

    def __init__(self, teacher: TeacherSpec):
        import ray

        from .worker import GenerationWorker, vllm_factory

        ensure_ray()
        self.spec = teacher
        model = resolve_model(teacher.model, teacher.revision)
        eng = teacher.engine
        env = {**_WORKER_ENV, "VLLM_CPU_KVCACHE_SPACE": str(eng["kv_cache_space_gib"])}
        actor = ray.remote(GenerationWorker).options(
            num_cpus=eng["cpus_per_engine"], num_gpus=eng["gpus_per_engine"], runtime_env={"env_vars": env},
            max_concurrency=1)
        if teacher.backend != "vllm":
            raise ValueError(f"unknown teacher backend {teacher.backend!r}")
        factory = vllm_factory(model.path, model.name, model.revision, eng)
        self.workers = [actor.remote(factory) for _ in range(eng["num_engines"])]
        infos = ray.get([w.info.remote() for w in self.workers])
        self.info: dict[str, Any] = infos[0]
        self.batch_size: int = eng["batch_size"]

    def serves(self, teacher: TeacherSpec) -> bool:
        """Whether this pool runs the same engine a recipe asks for (sampling may differ per request)."""
        return (self.spec.backend, self.spec.model, self.spec.revision, self.spec.engine) == \
               (teacher.backend, teacher.model, teacher.revision, teacher.engine)

    def close(self) -> None:
        import ray

        for w in self.workers:
            ray.kill(w)
        self.workers = []
