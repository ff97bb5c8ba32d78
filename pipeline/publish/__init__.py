"""Publish stage: HF-layout Parquet shards, rejects, metrics, dataset card, lock file and manifest."""
