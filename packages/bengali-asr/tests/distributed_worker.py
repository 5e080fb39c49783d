"""Run by ``test_distributed.py`` (and ``test_gpu.py``, on one GPU) under ``accelerate launch``: one fit of the tiny
w2v-BERT CTC model (``transformers.Trainer``) on planted clips (two tones standing for two letters), then each rank
writes a digest of its weights."""

import sys

import torch

from bengali_asr import model as acoustic
from bengali_asr.configs import AcousticConfig
from bengali_asr.vocab import build_vocab
from conftest import tone_clips
from shared.launch import weights_digest, write_rank_report


def main(out_dir: str) -> None:
    torch.set_num_threads(1)
    waves, sentences = tone_clips(16)
    vocab = build_vocab(sentences)
    config = AcousticConfig(backbone="tiny", hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            conv_kernel=3, max_steps=3, batch_size=4, gradient_accumulation_steps=1,
                            learning_rate=1e-3, bf16=True, mask_time_prob=0.0)  # fmt: skip
    # bf16 as the recipes: on CUDA only, so it agrees with the launch config's precision (bf16 on the GPU check,
    # none on CPU processes)
    initial = acoustic.build(config, vocab)
    fitted = acoustic.fit(config, waves, sentences, vocab, desc="distributed")
    # DeepSpeed in bf16 trains (and leaves) the weights in bf16: the initial ones are compared in the same dtype
    initial.to(next(fitted.model.parameters()).dtype)
    write_rank_report(out_dir, weights_digest(initial), fitted.model)


if __name__ == "__main__":
    main(sys.argv[1])
