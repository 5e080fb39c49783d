"""The 3rd place's optimisation options (Kaggle discussion 446686): frozen lower layers, layer-wise LR decay
and an exponential moving average of the weights.

All three sort the backbone's parameters by depth: embeddings at the bottom, then the numbered layers
(``layer.3.``, ``layers.3.``, ``h.3.``, ``blocks.3.``), and on top whatever follows them (a final norm, a
pooler) and the regression head. Names are matched as they appear inside the regressor (``backbone.``),
LoRA adapters included (``...layers.3.self_attn.q_proj.lora_A...``).
"""

from __future__ import annotations

import re

import torch
from torch import nn
from transformers import Trainer, TrainerCallback

_LAYER = re.compile(r"\.(?:layer|layers|h|blocks)\.(\d+)\.")


def layer_count(model: nn.Module) -> int:
    """How many numbered layers the backbone has."""
    indices = [int(m.group(1)) for name, _ in model.named_parameters() if (m := _LAYER.search(name))]
    return 1 + max(indices, default=-1)


def depth(name: str, n_layers: int) -> int:
    """How far below the top a parameter sits: 0 for the head, the top layer and what follows the layers;
    ``n_layers - 1 - i`` for layer ``i``; ``n_layers`` for the embeddings."""
    if not name.startswith("backbone."):
        return 0
    if match := _LAYER.search(name):
        return n_layers - 1 - int(match.group(1))
    return n_layers if "embed" in name else 0


def freeze_lower_layers(model: nn.Module, n_frozen: int) -> None:
    """``requires_grad = False`` on the embeddings and the first ``n_frozen`` layers (0: nothing frozen)."""
    if n_frozen <= 0:
        return
    n_layers = layer_count(model)
    if n_frozen > n_layers:
        raise ValueError(f"freeze_layers: {n_frozen} is more than the backbone's {n_layers} layers")
    for name, param in model.named_parameters():
        match = _LAYER.search(name)
        lower = int(match.group(1)) < n_frozen if match else "embed" in name
        if name.startswith("backbone.") and lower:
            param.requires_grad_(False)


def parameter_groups(
    model: nn.Module, lr: float, head_lr: float, llrd: float, weight_decay: float
) -> list[dict]:
    """Optimizer groups of the trainable parameters: backbone parameters at ``lr * llrd**depth`` (the top
    layer at ``lr``, the embeddings one step below the first layer), the head at ``head_lr``; no weight
    decay on biases and norm weights (the one-dimensional parameters). Empty groups are left out."""
    n_layers = layer_count(model)
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        rate = lr * llrd ** depth(name, n_layers) if name.startswith("backbone.") else head_lr
        decay = 0.0 if param.ndim <= 1 else weight_decay
        groups.setdefault((rate, decay), []).append(param)
    return [{"params": p, "lr": rate, "weight_decay": decay} for (rate, decay), p in groups.items()]


class LayerwiseTrainer(Trainer):
    """``Trainer`` whose optimizer gets :func:`parameter_groups`.

    Why ``create_optimizer`` rather than ``optimizers=(AdamW(...), None)``: Trainer calls it once the model
    is on its device and, under DeepSpeed, before wrapping the optimizer, and it keeps ``args.optim``
    (``adamw_torch``, ``adamw_bnb_8bit``, ...) and the Adam betas/epsilon of the arguments; only the
    parameter groups are ours. The scheduler scales every group's own rate.
    """

    def __init__(self, *args, head_learning_rate: float = 0.0, llrd: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_learning_rate, self.llrd = head_learning_rate, llrd

    def create_optimizer(self, model=None) -> torch.optim.Optimizer:
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            lr = self.args.learning_rate
            groups = parameter_groups(
                opt_model, lr, self.head_learning_rate or lr, self.llrd, self.args.weight_decay
            )
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer


class EmaCallback(TrainerCallback):
    """Exponential moving average of the trainable weights, ``shadow = decay * shadow + (1 - decay) * w``
    after every optimizer step (starting from the initial weights), copied into the model when training
    ends, so that everything after ``fit`` (predictions, saving) uses the averaged weights."""

    def __init__(self, decay: float):
        self.decay, self.shadow = decay, {}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.shadow = {
            name: p.detach().float().clone() for name, p in model.named_parameters() if p.requires_grad
        }

    @torch.no_grad()
    def on_step_end(self, args, state, control, model=None, **kwargs):
        for name, param in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(param.detach().float(), 1.0 - self.decay)

    @torch.no_grad()
    def on_train_end(self, args, state, control, model=None, **kwargs):
        for name, param in model.named_parameters():
            if name in self.shadow:
                param.copy_(self.shadow[name].to(param.dtype))
