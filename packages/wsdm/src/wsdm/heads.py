"""How a decoder LLM says which response wins, and the losses that teach it (§12.6.2–12.6.3).

Every head gives two logits per triple, ``[A wins, B wins]`` (label 0 = ``model_a``, 1 = ``model_b``):

- ``classification``: ``AutoModelForSequenceClassification`` with 2 labels, a new linear head on the last
  token's hidden state (what most LMSYS/WSDM solutions started from); loss: cross-entropy over the 2 logits.
- ``generation``: the causal LM's own logits of the answer tokens "A" and "B" at the last position (after the
  template's "Answer:" cue). Loss: the LM's cross-entropy on the answer token alone, over the whole
  vocabulary — the prompt's tokens carry no loss (the same as Hugging Face's causal-LM loss with every label
  -100 but the answer token's; a test checks the two agree). The head starts from what the LM already
  knows about "A" and "B" instead of a random layer.
- ``judge``: the generation head, untrained (the zero-shot baseline, §12.5.1).

Distillation (§12.6.3): the student's loss is ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * hard``,
both distributions softened by the temperature ``T`` over the two outcomes. The teacher is a file of
probabilities (its out-of-fold p(A)), so it never runs at training time and no gradient can reach it; its
logits are taken as ``log p`` (softmax is shift-invariant, so that is exact up to a constant).

:class:`PreferenceTrainer` is a ``transformers.Trainer`` whose ``compute_loss`` is the above (the causal-LM
loss of the Trainer does not apply to two logits at one position); gradient accumulation, schedulers, bf16
and the accelerate/DeepSpeed launchers work as for any Trainer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from transformers import Trainer

from shared.llm import pad_left, positions
from wsdm.configs import HEADS

EPS = 1e-6


def forward(model, head: str, ids: torch.Tensor, mask: torch.Tensor, answer_ids: Sequence[int] | None):
    """(pair logits ``(n, 2)``, the last position's vocabulary logits ``(n, V)`` or None for a classifier) of
    left-padded rows."""
    if head not in HEADS:
        raise ValueError(f"head: {head!r} is not one of {HEADS}")
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False,
                **({} if head == "classification" else {"logits_to_keep": 1}))  # fmt: skip
    if head == "classification":
        return out.logits.float(), None
    vocab = out.logits[:, -1].float()
    return vocab[:, list(answer_ids)], vocab


def hard_loss(head: str, pair: torch.Tensor, vocab: torch.Tensor | None, labels: torch.Tensor,
              answer_ids: Sequence[int] | None) -> torch.Tensor:  # fmt: skip
    """Cross-entropy of the labels: over the two logits (classification), or of the answer token over the
    whole vocabulary (generation)."""
    if head == "classification":
        return F.cross_entropy(pair, labels)
    targets = torch.tensor(list(answer_ids), device=labels.device)[labels]
    return F.cross_entropy(vocab, targets)


def distillation_loss(student: torch.Tensor, teacher_p_a: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T^2 * KL(teacher_T || student_T)``, the mean over rows: ``student`` the ``(n, 2)`` logits, ``teacher_p_a``
    the teacher's p(A wins) per row (detached: a label, not a model)."""
    p = teacher_p_a.detach().float().clamp(EPS, 1 - EPS)
    teacher_logits = torch.stack([p.log(), (1 - p).log()], dim=-1)
    target = F.log_softmax(teacher_logits / temperature, dim=-1)
    log_student = F.log_softmax(student.float() / temperature, dim=-1)
    kl = F.kl_div(log_student, target, reduction="batchmean", log_target=True)
    return kl * temperature**2


class Collator:
    """Encoded rows (``{"input_ids": [...], "label": 0|1}``, plus ``"teacher"``: p(A) when distilling) as a
    left-padded batch."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids, mask = pad_left([row["input_ids"] for row in rows], self.pad_id)
        batch = {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": torch.tensor([row["label"] for row in rows]),
        }
        if "teacher" in rows[0]:
            batch["teacher"] = torch.tensor([row["teacher"] for row in rows], dtype=torch.float32)
        return batch


class PreferenceTrainer(Trainer):
    """``Trainer`` with the head's loss, plus the distillation term when the batch carries ``teacher``
    (module docstring)."""

    loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides it over accumulation steps

    def __init__(self, *args, head: str, answer_ids: Sequence[int] | None, distill_alpha: float = 0.0,
                 temperature: float = 1.0, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.head, self.answer_ids = head, answer_ids
        self.distill_alpha, self.temperature = distill_alpha, temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        pair, vocab = forward(
            model, self.head, inputs["input_ids"], inputs["attention_mask"], self.answer_ids
        )
        loss = hard_loss(self.head, pair, vocab, inputs["labels"], self.answer_ids)
        if "teacher" in inputs:
            kl = distillation_loss(pair, inputs["teacher"], self.temperature)
            loss = self.distill_alpha * kl + (1 - self.distill_alpha) * loss
        return (loss, {"logits": pair}) if return_outputs else loss
