"""Run by ``test_distributed.py`` under ``accelerate launch``: one fold of the transformer on a tiny frame,
then each rank writes a digest of its weights so the test can compare the ranks."""

import json
import os
import sys

import deepspeed.comm
import numpy as np
import pandas as pd
import torch

from jigsaw.experiment import ExperimentConfig
from jigsaw.transformer import ToxicityModel, fit
from shared.launch import weights_digest


def main(backbone: str, out_dir: str) -> None:
    rng = np.random.default_rng(0)
    words = np.array(["you", "are", "an", "idiot", "nice", "post", "thanks", "stupid", "great", "muslim"])
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 12))) for _ in range(64)]
    train = pd.DataFrame({"comment_text": texts, "target": rng.random(64)})
    # bf16 as in the recipes: fit uses it on CUDA only, where DeepSpeed refuses a Trainer without it under a bf16
    # launch (the GPU check launches zero2.yaml on one GPU in bf16)
    config = ExperimentConfig(
        model="transformer", backbone=backbone, max_length=24, head_tokens=8, epochs=1.0, batch_size=8,
        learning_rate=1e-3, llrd=1.0, aux_targets="none", bf16=True,
    )  # fmt: skip
    torch.manual_seed(config.seed)  # the initial weights fit() starts from
    initial = weights_digest(ToxicityModel(backbone, 0, pooling=config.pooling))
    model = fit(config, train, np.ones(len(train))).model
    # deepspeed.comm is initialised only when the Trainer really built a DeepSpeed engine
    engaged = deepspeed.comm.is_initialized()
    zero_stage = int(os.environ["ACCELERATE_DEEPSPEED_ZERO_STAGE"]) if engaged else None
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    result = {
        "rank": rank,
        "world_size": world,
        "initial": initial,
        "digest": weights_digest(model),
        "zero_stage": zero_stage,
    }
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
