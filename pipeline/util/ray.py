"""Ray start-up shared by every stage that fans out (generation, the judge, MinHash dedupe): one place that decides
how a driver joins or starts a cluster. Ray is imported lazily; commands that never fan out never load it."""
from __future__ import annotations

import os


def ensure_ray(address: str | None = None) -> None:
    """Join the cluster at `address` (or $RAY_ADDRESS), or start a local one; a no-op once Ray is up."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 ignore_reinit_error=True, log_to_driver=True, logging_level="WARNING")
