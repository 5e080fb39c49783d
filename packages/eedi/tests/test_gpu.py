"""The GPU checks of eedi: its CUDA paths on the device of the ``gpu`` fixture, a CUDA GPU (dry run on CPU with
``KLS_GPU_CHECKS_DEVICE=cpu``: the chapter then takes its CPU branches, and the checks assert those instead).

- The pointwise reranker (LoRA on a bf16 base, the 1st place's group loss) and the LLM embedder (LoRA, MNRL)
  train in bf16 mixed precision on the GPU: their loss falls and their adapters move, nothing else.
- The listwise reranker trains under QLoRA as its recipe does (NF4 base layers, gradient checkpointing) and
  scores on the GPU.
- ``eedi-predict`` runs its embedder and rerankers on the GPU and ranks the test as the same models do with
  CUDA hidden, within the error of bf16.
- The ZeRO-2 accelerate config engages DeepSpeed on one GPU (in bf16) and trains the reranker's adapters.
"""

import contextlib
import math

import numpy as np
import pandas as pd
import pytest
import torch

from eedi import embedder, listwise, llm_rerank, pointwise, predict, train
from eedi.data import load_misconceptions, load_test
from packages.eedi.tests.test_distributed import RECIPES, WORKER
from packages.eedi.tests.test_embedder import DOCS as NAMES
from packages.eedi.tests.test_embedder import qwen, toy
from packages.eedi.tests.test_listwise import config as listwise_config
from packages.eedi.tests.test_listwise import planted as listwise_planted
from packages.eedi.tests.test_listwise import truth_logprob
from packages.eedi.tests.test_pointwise import DOCS
from packages.eedi.tests.test_pointwise import config as pointwise_config
from packages.eedi.tests.test_pointwise import planted as pointwise_planted
from shared.launch import rank_reports
from shared.testing import needs, spy
from shared.tiny import resolve_backbone

CANDIDATES = 6  # the predict run's pointwise candidates: the head its reranker scores
# |GPU - CPU| of a pointwise head score, log p(Yes) (plus the boost, the same on both): the GPU scores with a
# bf16 base under bf16 autocast, the CPU in float32. Measured: the same models scored so on a CPU (bf16
# weights, CPU autocast) differ from float32 by 0.0014 at most, while their scores span 0.15.
SCORE_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def backbone():
    """A tiny Qwen2 whose tokenizer makes "Yes", "No" and the candidate letters single tokens."""
    queries = pointwise_planted(8, 0)[0] + listwise_planted(8, 0)[0]
    return resolve_backbone("tiny:qwen2", [*pointwise.PROMPT_TEXTS, *listwise.PROMPT_TEXTS, *queries, *DOCS])


def trainable_state(model) -> dict[str, torch.Tensor]:
    """A float32 CPU copy of the weights that train."""
    return {n: p.detach().float().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def assert_only_adapters_moved(initial: dict[str, torch.Tensor], model) -> None:
    """Every LoRA weight changed in training, and LoRA weights are all that trained."""
    after = trainable_state(model)
    assert after.keys() == initial.keys() and all("lora_" in n for n in after)
    assert [n for n in after if torch.equal(after[n], initial[n])] == []


def assert_mixed_precision(gpu: torch.device, args, model) -> None:
    """The Trainer ran on the check's device, in bf16 mixed precision where that is CUDA (the chapter turns
    bf16 on there only), in float32 on the dry run's CPU."""
    assert {p.device.type for p in model.parameters()} == {gpu.type}
    assert (args.bf16, args.use_cpu) == ((True, False) if gpu.type == "cuda" else (False, True))


@contextlib.contextmanager
def linear_outputs(model):
    """The dtypes the model's Linear layers give while the block runs: bf16 under bf16 autocast."""
    seen: set[torch.dtype] = set()
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]  # fmt: skip
    try:
        yield seen
    finally:
        for hook in hooks:
            hook.remove()


@pytest.mark.gpu
def test_pointwise_reranker_trains_its_adapters_in_bf16(gpu, backbone, monkeypatch):
    """The zero2 recipes' case: LoRA on a bf16 base (no 4-bit weights), the group loss, bf16 autocast."""
    arguments = spy(monkeypatch, llm_rerank, "training_arguments")
    initial = spy(monkeypatch, pointwise, "lora_model", keep=trainable_state)
    queries, candidates, truth = pointwise_planted(32, seed=1)
    config = pointwise_config(backbone, pointwise_loss="group", bf16=True, pointwise_epochs=4.0)
    reranker = pointwise.fit(config, queries, candidates, truth, DOCS, desc="gpu pointwise")
    assert_mixed_precision(gpu, arguments[0], reranker.model)
    frozen = {p.dtype for p in reranker.model.parameters() if not p.requires_grad}
    assert frozen == {torch.bfloat16 if gpu.type == "cuda" else torch.float32}
    assert len(reranker.losses) == 2 and reranker.losses[1] < reranker.losses[0]  # steps 1-25, then 26-50
    assert_only_adapters_moved(initial[0], reranker.model)


@pytest.mark.gpu
def test_llm_embedder_trains_its_adapters_under_bf16_autocast(gpu, tmp_path):
    """The winners' LLM embedder (last-token pooling, LoRA): MNRL steps under bf16 autocast on the GPU."""
    needs("datasets", "the MNRL trainer's dataset")
    queries, positives = toy(4)
    model = qwen(lora_r=4, seed=0)
    initial = trainable_state(model)
    trainer = embedder.trainer(model, queries, positives, None, NAMES, output_dir=tmp_path, epochs=4, batch_size=6,
                               learning_rate=1e-2, warmup_ratio=0.0, bf16=True, logging_steps=1)  # fmt: skip
    with linear_outputs(model) as dtypes:
        trainer.train()
    assert_mixed_precision(gpu, trainer.args, model)
    assert dtypes == ({torch.bfloat16} if gpu.type == "cuda" else {torch.float32})
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 16 and np.mean(losses[-4:]) < np.mean(losses[:4])
    assert_only_adapters_moved(initial, model)


@pytest.mark.gpu
def test_listwise_reranker_trains_under_qlora(gpu, backbone, monkeypatch):
    """The listwise recipe's QLoRA: NF4 base layers (bitsandbytes, CUDA only), bf16 compute, gradient
    checkpointing; the adapters train, the base stays frozen. Without CUDA the base stays float32, with a
    warning that says so."""
    bnb = needs("bitsandbytes", "NF4 base weights")
    arguments = spy(monkeypatch, llm_rerank, "training_arguments")
    initial = spy(monkeypatch, listwise, "lora_model", keep=trainable_state)
    queries, candidates, truth = listwise_planted(48, seed=1)
    config = listwise_config(backbone, load_in_4bit=True, bf16=True, gradient_checkpointing=True,
                             listwise_epochs=9.0)  # fmt: skip
    fallback = (
        contextlib.nullcontext() if gpu.type == "cuda" else pytest.warns(UserWarning, match="no CUDA device")
    )
    with fallback:
        reranker = listwise.fit(config, queries, candidates, truth, DOCS, desc="gpu listwise")
    assert_mixed_precision(gpu, arguments[0], reranker.model)
    assert arguments[0].gradient_checkpointing
    four_bit = [n for n, m in reranker.model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    # NF4: the attention and MLP projections of both blocks (7 each), the adapted ones under their LoRA
    assert len(four_bit) == (14 if gpu.type == "cuda" else 0), four_bit
    assert len(reranker.losses) == 2 and reranker.losses[1] < reranker.losses[0]  # steps 1-25, then 26-50
    assert_only_adapters_moved(initial[0], reranker.model)
    scores = reranker.scores(queries, candidates, DOCS)  # on the GPU too, under bf16 autocast
    np.testing.assert_allclose(np.exp(scores).sum(1), 1.0, atol=1e-4)  # a log-softmax over the letters
    assert truth_logprob(scores, candidates, truth) > math.log(0.5)  # chance: 1/3


@pytest.fixture(scope="module")
def trained(sample_dir, tmp_path_factory):
    """A small ``eedi-train`` run (on the GPU of the checks where there is one): TF-IDF and a tiny BERT fused,
    then a tiny Qwen2 pointwise reranker per fold under LoRA, bf16 as the GPU recipes set it. No listwise
    stage: its scores depend on the order the pointwise stage gives its candidates, which bf16 reorders where
    the tiny reranker's scores nearly tie, so the two devices' scores would not be comparable."""
    out = tmp_path_factory.mktemp("eedi-gpu") / "run"
    train.main(["--data-dir", str(sample_dir), "--output-dir", str(out), "--name", "gpu", "--n_folds", "2",
                "--retrievers", "tfidf", "pretrained", "--embedder", "tiny:bert", "--embedder_max_length", "64",
                "--rerank", "pointwise", "--pointwise_backbone", "tiny:qwen2", "--pointwise_candidates",
                str(CANDIDATES), "--pointwise_negatives", "2", "--pointwise_max_length", "160", "--pointwise_batch_size",
                "16", "--pointwise_gradient_accumulation_steps", "1", "--pointwise_learning_rate", "3e-3",
                "--lora_r", "8", "--lora_alpha", "16", "--load_in_4bit", "false", "--bf16", "true"])  # fmt: skip
    return out


@pytest.mark.gpu
def test_predict_ranks_on_the_gpu_as_a_cpu_does(gpu, trained, sample_dir, tmp_path, monkeypatch):
    """``eedi-predict`` puts the embedder and every fold's reranker on the GPU (no flag needed), writes a valid
    submission, and ranks as the same models do with CUDA hidden (every device choice of the chapter and of
    sentence-transformers asks ``torch.cuda.is_available``): the same pointwise candidates (retrieval is
    float32 on both) with the same scores within ``SCORE_TOLERANCE``."""
    rankings = spy(monkeypatch, predict, "predict_ranking")
    embedders = spy(monkeypatch, predict, "load_embedder", keep=lambda model: model.device.type)
    rerankers = spy(monkeypatch, pointwise, "load", keep=lambda r: r.device().type)  # FoldRerankers.get's
    output = tmp_path / "submission.csv"
    predict.main(
        ["--models", str(trained / "models"), "--data-dir", str(sample_dir), "--output", str(output)]
    )
    submission = pd.read_csv(output, dtype=str)
    test = pd.read_csv(sample_dir / "test.csv")
    keys = [
        f"{q}_{x}"
        for q, c in zip(test["QuestionId"], test["CorrectAnswer"], strict=True)
        for x in "ABCD"
        if x != c
    ]
    assert submission["QuestionId_Answer"].tolist() == keys
    known = set(pd.read_csv(sample_dir / "misconception_mapping.csv")["MisconceptionId"].astype(str))
    assert all(len(set(ids)) == 25 and set(ids) <= known for ids in submission["MisconceptionId"].str.split())

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    predict.predict_ranking(trained / "models", load_test(sample_dir / "test.csv"),
                            load_misconceptions(sample_dir / "misconception_mapping.csv"))  # fmt: skip
    assert embedders == [gpu.type, "cpu"] and rerankers == [gpu.type] * 2 + ["cpu"] * 2  # one reranker a fold
    heads = [ranked.cols[:, :CANDIDATES] for ranked in rankings]  # on the GPU, then on the CPU
    # retrieval is float32 on both: only a near-tie at its cut may change a row's candidates
    same = (np.sort(heads[0], 1) == np.sort(heads[1], 1)).all(1)
    assert rankings[0].head == CANDIDATES and same.mean() >= 0.95
    by_column = [np.take_along_axis(r.scores[same], np.argsort(h[same], 1), 1) for r, h in zip(rankings, heads, strict=True)]  # fmt: skip
    assert np.abs(by_column[0] - by_column[1]).max() <= SCORE_TOLERANCE
    # the scores lie far enough apart for that bound to mean something
    assert np.ptp(by_column[1]) > 3 * SCORE_TOLERANCE


@pytest.mark.gpu
def test_zero2_engages_deepspeed_on_one_gpu_and_trains_the_adapters(gpu, backbone, tmp_path):
    """``recipes/accelerate/zero2.yaml`` on one process of the check's device (bf16 on CUDA): the Trainer
    builds a ZeRO-2 engine and the pointwise reranker's adapters end away from where they started."""
    needs("deepspeed", "the ZeRO-2 engine")
    (rank,) = rank_reports(RECIPES / "zero2.yaml", [str(WORKER), backbone, str(tmp_path)], tmp_path, num_processes=1,
                           timeout=600, device=gpu)  # fmt: skip
    assert (rank["world_size"], rank["zero_stage"]) == (1, 2)
    assert rank["digest"] != rank["initial"]
