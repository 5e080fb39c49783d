"""Run by ``test_distributed.py`` under ``accelerate launch``: one fit of the pointwise LLM reranker (LoRA,
``transformers.Trainer``) on a tiny planted task, then each rank writes a digest of its weights.

``bf16`` is on as in the GPU recipes: the chapter turns it on on CUDA only, where the GPU checks launch the
config in bf16 (DeepSpeed refuses a Trainer whose bf16 differs from the launch's); on CPU it stays off."""

import sys

import numpy as np
import torch

from eedi import llm_rerank, pointwise
from eedi.configs import ExperimentConfig
from shared.launch import weights_digest, write_rank_report

DOCS = ["Adds the numerators and the denominators", "Thinks a negative times a negative is negative",
        "Confuses the radius with the diameter", "Rounds down instead of up", "Believes angles in a triangle sum to 360"]  # fmt: skip


def main(backbone: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    truth = rng.integers(len(DOCS), size=16)
    queries = [f"Construct: {DOCS[t].split()[-1]}\nQuestion: q{i}\nCorrect answer: 1\nIncorrect answer: 2"
               for i, t in enumerate(truth)]  # fmt: skip
    candidates = np.stack([rng.permutation(len(DOCS))[:4] for _ in truth])
    config = ExperimentConfig(pointwise_backbone=backbone, pointwise_candidates=4, pointwise_negatives=2, listwise_candidates=3,
                              pointwise_max_length=96, pointwise_batch_size=4, pointwise_gradient_accumulation_steps=1,
                              pointwise_learning_rate=1e-3, lora_r=4, lora_alpha=8, lora_target_modules=["q_proj", "v_proj"],
                              load_in_4bit=False, bf16=True, warmup_ratio=0.0)  # fmt: skip
    initial = weights_digest(llm_rerank.lora_model(config, backbone))
    trained = pointwise.fit(config, queries, candidates, truth, DOCS, "distributed")
    write_rank_report(out_dir, initial, trained.model)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
