"""Tune the response classifier's embedding for its task: low-rank adapters (LoRA) on the 3 MiniLM layers it runs,
trained jointly with the logistic layer on the same pool, starting from the logistic fit on the plain embedding.

Why: the plain MiniLM was trained for topic similarity; what the classifier needs from an answer's opening is
whether it declines, deflects or answers, which the logistic layer can only read off directions the plain model
happens to have. Low-rank changes to the layers let the embedding move those apart (a statement of purpose in place
of a refusal, "I'm here to foster a respectful environment…", next to an apology that then answers) while staying
close to the plain model: 166k numbers at rank 8, shipped in the weights file, merged into the layers at load, so
the classifier costs what it cost before. Used by train_response_classifier.py (`--tune-epochs`), which chooses by
leave-one-group-out like the rest of the model.

Deterministic for a given torch build and thread count: one seed for the factors' initialisation and the batch
order."""
from __future__ import annotations

import math

import numpy as np

from pipeline.embed.minilm import _tokenizer, load_layers, mean_pool
from pipeline.filters.response_model import ResponseModel, make_adapter, side_features

TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")      # every linear layer of a BERT block
BATCH = 32
WARMUP_STEPS = 50


def tune(texts: list[str], y: np.ndarray, start: ResponseModel, l2: float, epochs: int = 3, rank: int = 8,
         lr: float = 5e-4, seed: int = 0) -> ResponseModel:
    """`start` (the logistic fit on the plain embedding, whose standardisation is kept) with its embedding tuned
    and its weights refitted jointly: class-balanced cross-entropy plus the same L2 penalty, AdamW, linear warm-up
    and decay (`l2` is the strength `start` was fitted with). The adapter's factors start as b = 0, so training
    starts from `start` exactly."""
    import torch

    torch.manual_seed(seed)
    tok = _tokenizer()
    model = load_layers(start.head_layers)
    for p in model.parameters():
        p.requires_grad_(False)
    factors: dict[str, tuple] = {}
    for i, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            linear = layer.get_submodule(target)
            a = torch.nn.Parameter(torch.randn(rank, linear.in_features) / math.sqrt(linear.in_features))
            b = torch.nn.Parameter(torch.zeros(linear.out_features, rank))
            factors[f"encoder.layer.{i}.{target}"] = (a, b)
            linear.register_forward_hook(lambda _m, inp, out, a=a, b=b: out + inp[0] @ a.T @ b.T)

    enc = tok([t or " " for t in texts], padding="max_length", truncation=True, max_length=start.head_tokens,
              return_tensors="pt")
    side = torch.from_numpy(side_features(texts, start.bow_dims))
    mean, scale = torch.from_numpy(start.mean), torch.from_numpy(start.scale)
    w = torch.nn.Parameter(torch.from_numpy(start.weights.copy()))
    bias = torch.nn.Parameter(torch.from_numpy(start.bias.copy()))
    labels = torch.from_numpy(np.asarray(y, np.int64))
    counts = np.bincount(y, minlength=len(start.labels))
    class_w = torch.tensor(len(y) / (len(start.labels) * np.maximum(counts, 1)), dtype=torch.float32)
    lora = [p for ab in factors.values() for p in ab]
    opt = torch.optim.AdamW([{"params": lora, "lr": lr}, {"params": [w, bias], "lr": lr * 0.2}], weight_decay=0.0)
    steps = max(1, epochs * math.ceil(len(y) / BATCH))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / WARMUP_STEPS) * max(0.0, 1 - s / steps))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for i in range(0, len(y), BATCH):
            rows = order[i:i + BATCH]
            mask = enc["attention_mask"][rows]
            pooled = mean_pool(model(input_ids=enc["input_ids"][rows], attention_mask=mask).last_hidden_state, mask)
            z = ((torch.cat([pooled, side[rows]], 1) - mean) / scale) @ w + bias
            loss = torch.nn.functional.cross_entropy(z, labels[rows], weight=class_w) + 0.5 * l2 * (w * w).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    saved = tuple((name, a.detach().numpy().copy(), b.detach().numpy().copy()) for name, (a, b) in factors.items())
    return ResponseModel(weights=w.detach().numpy().copy(), bias=bias.detach().numpy().copy(), mean=start.mean,
                         scale=start.scale, labels=start.labels, head_tokens=start.head_tokens,
                         head_layers=start.head_layers, bow_dims=start.bow_dims,
                         adapter=make_adapter(saved))
