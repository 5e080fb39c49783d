"""The submission: a saved model, an inference engine and the :class:`~aimo2.solver.Solver`, as one
``predict(id_, problem) -> int`` for Kaggle's AIMO2 inference server, or ``aimo2-predict`` for a local run.

:func:`build_solver`

AIMO2 was a code competition: the notebook runs offline against 50 hidden problems in about 5 hours, one
problem at a time through ``kaggle_evaluation``'s gateway. :func:`build_solver` loads the model once (any
folder ``aimo2-sft``, ``train-grpo`` or ``aimo2-merge`` wrote, or a Kaggle model dataset) into vLLM or
transformers, and builds one Solver whose time budget is shared by all the problems: each gets the remaining
budget divided by the problems left, so time an easy one leaves is spent on the next. The engine's sizes are
fields, so one recipe can fit a 14B model on Kaggle's 4×L4 (``tensor_parallel_size: 4``, AWQ weights, an FP8 KV
cache) or one H100. The notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels aimo2
    from aimo2.kaggle import InferenceSettings, build_solver, serve
    solver = build_solver(InferenceSettings(model="/kaggle/input/my-aimo2-model", backend="vllm",
                                            tensor_parallel_size=4, quantization="awq", kv_cache_dtype="fp8"))
    serve(solver.predict, "/kaggle/input/ai-mathematical-olympiad-progress-prize-2/test.csv")
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aimo2.backends import TransformersBackend, VLLMBackend
from aimo2.gateway import KAGGLE_SECONDS_PER_PROBLEM, kaggle_predict_adapter
from aimo2.prompts import STYLES, TOOL_FORMATS
from aimo2.solver import Solver
from shared.recipes import FieldError

BACKENDS = ("vllm", "transformers")
KAGGLE_PROBLEMS = 50
BUDGET_SHARE = (
    0.93  # of Kaggle's time per problem for the Solver: ~20 of 300 min left for loading and a margin
)


@dataclass
class InferenceSettings:
    """What the submission runs: the model, the engine's sizes and the Solver's sampling, voting and budget."""

    model: str = field(
        default="", metadata={"help": "a saved model folder (aimo2-sft / train-grpo / aimo2-merge)"}
    )
    backend: str = field(default="vllm", metadata={"help": "vllm (GPU) | transformers (any device; slow)"})
    # the engine (vLLM; the transformers backend takes none of these)
    tensor_parallel_size: int = field(
        default=1, metadata={"help": "GPUs one model is split over (Kaggle: 4 L4s)"}
    )
    max_model_len: int = field(default=32768, metadata={"help": "prompt + completion tokens per sequence"})
    gpu_memory_utilization: float = 0.9
    quantization: str | None = field(
        default=None, metadata={"help": "awq | fp8 | None (the checkpoint's own)"}
    )
    kv_cache_dtype: str = field(default="auto", metadata={"help": "auto | fp8 (NemoSkills' speed-up)"})
    enable_prefix_caching: bool = True
    # the Solver
    style: str = field(default="cot", metadata={"help": f"one of {sorted(STYLES)}"})
    tool_format: str = field(default="markdown", metadata={
        "help": "tir: markdown (```python blocks) | tool_call (<tool_call> tags, OpenMath-Nemotron)"})  # fmt: skip
    n_samples: int = field(default=16, metadata={"help": "samples per problem at most"})
    batch_size: int = field(default=8, metadata={"help": "samples drawn together"})
    min_agree: int | None = field(
        default=5, metadata={"help": "stop once this many samples agree (None: never)"}
    )
    margin: int = 3
    max_new_tokens: int = 16384
    temperature: float = 0.6
    top_p: float = 0.95
    min_p: float = field(default=0.0, metadata={"help": "min-p filtering of the sampled tokens (0: off)"})
    stop: list[str] = field(
        default_factory=list,
        metadata={
            "help": "CoT: stop strings, e.g. </think> for a model that boxes its answer while thinking (Fast-Math-R1)"
        },
    )
    n_problems: int | None = field(
        default=None,
        metadata={
            "help": "problems the budget is shared by (default: Kaggle's 50; aimo2-predict: those of test.csv)"
        },
    )
    time_budget_s: float | None = field(default=None, metadata={
        "help": "seconds for all the problems (default: 0.93 of Kaggle's 5 h per 50 problems)"})  # fmt: skip
    seed: int = 0

    def __post_init__(self):
        if not self.model:
            raise FieldError(
                "model", "model: give the folder of a saved model (or a hub id with a local cache)"
            )
        if self.backend not in BACKENDS:
            raise FieldError("backend", f"backend: {self.backend!r} is not one of {' | '.join(BACKENDS)}")
        if self.style not in STYLES:
            raise FieldError("style", f"style: {self.style!r} is not one of {sorted(STYLES)}")
        if self.tool_format not in TOOL_FORMATS:
            raise FieldError(
                "tool_format", f"tool_format: {self.tool_format!r} is not one of {sorted(TOOL_FORMATS)}"
            )
        for name in ("tensor_parallel_size", "max_model_len", "n_samples", "batch_size", "n_problems"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise FieldError(name, f"{name}: {getattr(self, name)} must be >= 1")
        if self.min_agree is not None and not 1 <= self.min_agree <= self.n_samples:
            raise FieldError("min_agree", f"min_agree: {self.min_agree} must be in 1..n_samples ({self.n_samples}); "
                                          "None never stops early")  # fmt: skip
        if self.margin < 1:
            raise FieldError("margin", f"margin: {self.margin} must be >= 1")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise FieldError("time_budget_s", f"time_budget_s: {self.time_budget_s} must be > 0")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise FieldError("gpu_memory_utilization", f"gpu_memory_utilization: {self.gpu_memory_utilization} "
                                                       "must be in (0, 1]")  # fmt: skip

    @property
    def problems(self) -> int:
        return KAGGLE_PROBLEMS if self.n_problems is None else self.n_problems

    @property
    def budget_s(self) -> float:
        if self.time_budget_s is not None:
            return self.time_budget_s
        return BUDGET_SHARE * KAGGLE_SECONDS_PER_PROBLEM * self.problems

    def engine(self) -> dict:
        """The vLLM engine arguments (:class:`~aimo2.backends.VLLMBackend`)."""
        return {"tensor_parallel_size": self.tensor_parallel_size, "max_model_len": self.max_model_len,
                "gpu_memory_utilization": self.gpu_memory_utilization, "quantization": self.quantization,
                "kv_cache_dtype": self.kv_cache_dtype, "enable_prefix_caching": self.enable_prefix_caching,
                "seed": self.seed}  # fmt: skip


def load_engine(settings: InferenceSettings):
    """The model in the chosen backend, loaded once."""
    if settings.backend == "vllm":
        return VLLMBackend(settings.model, **settings.engine())
    return TransformersBackend(settings.model)


def build_solver(
    settings: InferenceSettings, backend=None, clock: Callable[[], float] = time.monotonic
) -> Solver:
    """One Solver for every problem over ``backend`` (default: :func:`load_engine`): its ``predict(id, problem)``
    is what the gateway calls; its budget (:attr:`InferenceSettings.budget_s`) is counted from now and shared by
    the ``n_problems``; its ``records`` say what each problem cost."""
    backend = backend if backend is not None else load_engine(settings)
    return Solver(backend, n_samples=settings.n_samples, batch_size=settings.batch_size,
                  min_agree=settings.min_agree, margin=settings.margin, style=settings.style,
                  max_new_tokens=settings.max_new_tokens, temperature=settings.temperature, top_p=settings.top_p,
                  time_budget_s=settings.budget_s, n_problems=settings.problems, clock=clock,
                  seed=settings.seed, tool_format=settings.tool_format, min_p=settings.min_p,
                  stop=settings.stop)  # fmt: skip


def serve(predict: Callable[[str, str], int], test_csv: str) -> None:
    """Kaggle's inference server around ``predict``: it serves the hidden problems in the competition's rerun,
    and ``test_csv`` through the local gateway in an interactive session (kaggle_evaluation ships with the
    competition's data, not on PyPI)."""
    import kaggle_evaluation.aimo_2_inference_server as aimo2_server

    server = aimo2_server.AIMO2InferenceServer(kaggle_predict_adapter(predict))
    if os.getenv("KAGGLE_IS_COMPETITION_RERUN"):
        server.serve()
    else:
        server.run_local_gateway((test_csv,))
