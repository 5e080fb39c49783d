"""Run by ``test_distributed.py`` under ``accelerate launch``: one fit of the token classifier on a few
synthetic essays, then each rank writes a digest of its weights so the test can compare the ranks."""

import json
import os
import sys

import torch

from pii.experiment import ExperimentConfig
from pii.model import fit, load_model
from pii.synth import generate
from shared.launch import weights_digest


def main(backbone: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    docs = [essay.document for essay in generate(4, seed=5)]
    config = ExperimentConfig(
        backbone=backbone, max_length=64, stride=16, epochs=1.0, batch_size=4, learning_rate=1e-3,
        gradient_accumulation_steps=1, bf16=False,
    )  # fmt: skip
    initial = weights_digest(
        load_model(backbone, config.prefix_free, config.seed)
    )  # the weights fit() starts from
    model, _ = fit(config, docs)
    rank = int(os.environ.get("RANK", "0"))
    result = {
        "rank": rank,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "initial": initial,
        "digest": weights_digest(model),
        "distributed": torch.distributed.is_initialized(),
    }
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
