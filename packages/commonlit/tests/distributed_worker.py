"""Run by ``test_distributed.py`` (and the ZeRO-2 GPU check) under ``accelerate launch``: one fit of the pooled
regressor (layer-wise LR decay and EMA on; bf16 as the recipes have it, which fit uses on CUDA only) on a tiny
frame, then each rank writes a digest of its weights so the test can compare the ranks."""

import sys

import numpy as np
import pandas as pd
import torch

from commonlit.configs import ExperimentConfig
from commonlit.model import build_model, fit
from shared.launch import weights_digest, write_rank_report


def main(backbone: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    words = np.array(["the", "river", "key", "stone", "mills", "workers", "long", "hours", "light", "dark"])
    texts = [" ".join(rng.choice(words, size=rng.integers(0, 10))) for _ in range(32)]
    train = pd.DataFrame({"text": texts, "prompt_question": "What happened?", "prompt_title": "t",
                          "prompt_text": " ".join(rng.choice(words, 30))})  # fmt: skip
    targets = rng.normal(size=(len(train), 2))
    config = ExperimentConfig(
        backbone=backbone, variant="pooled", max_length=48, epochs=1.0, batch_size=4, learning_rate=1e-3,
        llrd=0.8, ema=0.5, warmup_ratio=0.0, bf16=True,
    )  # fmt: skip
    initial = weights_digest(build_model(backbone, config))  # the weights fit() starts from
    model, _ = fit(config, train, targets, "distributed")
    write_rank_report(out_dir, initial, model)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
