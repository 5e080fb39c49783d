"""Run by ``test_distributed.py`` under ``accelerate launch``: one fit of the LoRA preference classifier
(``transformers.Trainer``) on a tiny planted task, then each rank writes a digest of its weights.

``bf16`` is on as in the GPU recipes: the chapter turns it on on CUDA only, where the GPU checks launch the
config in bf16 (DeepSpeed refuses a Trainer whose bf16 differs from the launch's); on CPU it stays off."""

import sys

import pandas as pd
import torch
from transformers import AutoTokenizer

from shared.launch import weights_digest, write_rank_report
from wsdm import model as models
from wsdm.configs import ExperimentConfig


def main(backbone: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    good, bad = "Paris is the capital of France.", "I cannot help with that."
    frame = pd.DataFrame([{"prompt": f"Question {i}: what is the capital of France?",
                           "response_a": good if i % 2 else bad, "response_b": bad if i % 2 else good,
                           "winner": "model_a" if i % 2 else "model_b"} for i in range(16)])  # fmt: skip
    config = ExperimentConfig(backbone=backbone, head="classification", max_length=96, lora_r=4, lora_alpha=8,
                              lora_target_modules=["q_proj", "v_proj"], load_in_4bit=False, bf16=True, batch_size=4,
                              gradient_accumulation_steps=1, learning_rate=1e-3, warmup_ratio=0.0)  # fmt: skip
    initial = weights_digest(models.trainable(config, backbone, AutoTokenizer.from_pretrained(backbone)))
    fitted = models.fit(config, backbone, frame, desc="distributed")
    write_rank_report(out_dir, initial, fitted.model)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
