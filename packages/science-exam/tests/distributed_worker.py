"""Run by ``test_distributed.py`` (and the ZeRO-2 GPU check) under ``accelerate launch``: one fit of the
multiple-choice reader (bf16 as the recipes have it, which fit uses on CUDA only) on a tiny frame, then each
rank writes a digest of its weights so the test can compare the ranks."""

import sys

import numpy as np
import pandas as pd
import torch

from science_exam import reader
from science_exam.configs import ExperimentConfig
from shared.launch import weights_digest, write_rank_report


def main(backbone: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    words = np.array(["quartz", "red", "blue", "river", "star", "frog", "iron", "green", "melts", "glows"])
    rows = []
    for i in range(32):
        options = list(rng.choice(words, size=5, replace=False))
        answer = int(rng.integers(5))
        rows.append({"id": f"q{i}", "prompt": "Which one is named?", **dict(zip("ABCDE", options, strict=True)),
                     "answer": "ABCDE"[answer], "context": f"The answer is {options[answer]}."})  # fmt: skip
    config = ExperimentConfig(backbone=backbone, mc_pooling="mean", max_length=32, epochs=1.0, batch_size=4,
                              gradient_accumulation_steps=1, learning_rate=1e-3, warmup_ratio=0.0, bf16=True)  # fmt: skip
    initial = weights_digest(reader.build_scorer(reader.AutoModelForMultipleChoice, backbone, "mean", "choice", 0,
                                                 "sdpa", config.seed))  # fmt: skip
    trained = reader.fit(config, pd.DataFrame(rows), "distributed")
    write_rank_report(out_dir, initial, trained.model)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
