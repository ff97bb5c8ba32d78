"""A pool of generation workers on Ray: local Ray by default, a cluster via the recipe's ray.address or
RAY_ADDRESS. vLLM: one actor per engine, each holding the CPUs/GPUs it needs. OpenAI-compatible endpoints:
async actors, each with its own bounded concurrency. Batch APIs: one actor on the driver's node that sends
batch rounds and keeps the ledger of submitted batches (`ledger_dir`)."""
from __future__ import annotations

import math
import os
from typing import Any, Protocol

from ..recipe import RecipeError, TeacherSpec
from ..util.ray import ensure_ray
from ..util.secret import Secret, looks_like_key
from .teachers.model_store import resolve_model

# Each vLLM engine logs at INFO per request batch; keep the build's output readable.
_WORKER_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_LOGGING_LEVEL": "ERROR", "TOKENIZERS_PARALLELISM": "false"}


class Pool(Protocol):
    """What generation needs from a pool of workers: Ray actor handles whose `run(batch, book)` returns one
    GenerationRecord per request, the batch size, how many batches to keep queued per worker, and whether it serves a
    recipe's teacher. EnginePool implements it with vLLM engines or HTTP clients; tests with scripted teachers."""
    workers: list
    batch_size: int
    in_flight: int

    def serves(self, teacher: TeacherSpec) -> bool: ...

    def close(self) -> None: ...


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

    def __init__(self, teacher: TeacherSpec, ray_address: str | None = None, ledger_dir: str | None = None):
        import ray

        from .worker import GenerationWorker, openai_factory, vllm_factory

        ensure_ray(ray_address)
        self.spec = teacher
        eng = teacher.engine
        self.batch_size: int = eng["batch_size"]
        if teacher.backend == "vllm":
            model = resolve_model(teacher.model, teacher.revision)
            env = {**_WORKER_ENV, "VLLM_CPU_KVCACHE_SPACE": str(eng["kv_cache_space_gib"])}
            actor = ray.remote(GenerationWorker).options(
                num_cpus=eng["cpus_per_engine"], num_gpus=eng["gpus_per_engine"], runtime_env={"env_vars": env},
                max_concurrency=1000)
            factory = vllm_factory(model.path, model.name, model.revision, eng)
            self.workers = [actor.remote(factory) for _ in range(eng["num_engines"])]
            # About two engine batches of conversations in flight per engine (the next fills in while the
            # current one's long tail drains), sent in small groups so finished conversations come back (and
            # reach the cache and the progress bar) as they finish, not a whole batch at a time.
            self.batch_size = max(1, eng["batch_size"] // 8)
            self.in_flight = math.ceil(2 * eng["batch_size"] / self.batch_size) + 1
        elif teacher.backend == "openai":
            api = teacher.api
            # Read here, where the user set it; passed as a Secret argument, not through Ray's runtime_env
            # (which Ray keeps and shows as metadata).
            key = api_key(teacher)
            actor = ray.remote(GenerationWorker).options(num_cpus=0, max_concurrency=1000)
            factory = openai_factory(teacher.model, teacher.revision, api, key)
            self.workers = [actor.remote(factory, api["native_tools"], restart_on_fatal=False)
                            for _ in range(eng["num_engines"])]
            # Enough batches queued per worker to keep `concurrency` requests in flight.
            self.in_flight = math.ceil(api["concurrency"] / self.batch_size) + 1
        elif teacher.backend == "openai_batch":
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            from .worker import BatchWorker

            if ledger_dir is None:
                raise ValueError("the openai_batch backend needs a ledger folder (the generation cache)")
            api = teacher.api
            # One worker on this node (its ledger is a local file), one provider batch per round holding every
            # pending request up to max_batch_requests.
            here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
            actor = ray.remote(BatchWorker).options(num_cpus=0, max_concurrency=16, scheduling_strategy=here)
            self.workers = [actor.remote(teacher.model, teacher.revision, api, api_key(teacher), str(ledger_dir),
                                         api["native_tools"])]
            self.batch_size, self.in_flight = api["max_batch_requests"], 1
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

        try:   # engines shut down, HTTP sessions close; never wait long for it
            ray.get([w.close.remote() for w in self.workers], timeout=30)
        except Exception:   # noqa: BLE001 - a worker that cannot close is killed below all the same
            pass
        for w in self.workers:
            ray.kill(w)
        self.workers = []
