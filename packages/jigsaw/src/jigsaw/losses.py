"""The loss every neural model of the chapter trains with."""

from __future__ import annotations

import torch
from torch.nn.functional import binary_cross_entropy_with_logits as bce


def weighted_bce_with_aux(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor,
    aux: torch.Tensor | None,
    aux_weight: float,
) -> torch.Tensor:
    """Weighted mean BCE of logit 0 on the (soft) target, plus ``aux_weight`` x mean BCE of the auxiliary logits."""
    main = bce(logits[:, 0], target, reduction="none")
    loss = (main * weight).sum() / weight.sum()
    if aux is not None and aux.size(1):
        loss = loss + aux_weight * bce(logits[:, 1:], aux)
    return loss
