"""LLM text generation behind one interface, for every chapter that has an LLM write training data
(questions, explanations, solutions): ``complete(requests, seed, desc) -> texts``.

- :class:`TransformersBackend`: ``AutoModelForCausalLM.generate`` over left-padded batches of ``batch_size``,
  batch ``b`` sampled from seed ``(seed, b)``; CPU or GPU.
- :class:`VllmBackend`: vLLM's offline engine with the recipe's engine fields (``tensor_parallel_size``,
  ``max_model_len``, ``gpu_memory_utilization``, ``dtype``, ``quantization``) and one seed per request; CUDA
  only, vLLM imported only there.

A request is a chat (:data:`Messages`) whose last, assistant, message starts the answer. With
``chat_template`` (instruct models) it goes through the generator's chat template, continuing that last
message; without (base models, the tiny stand-ins) the messages are plain paragraphs (:func:`render`).
The backends read their settings from any object with the attributes of :class:`GenerationSettings`;
:class:`GenerationConfig` is the dataclass with those fields, the generator and the backend choice, which a
chapter's config extends with its own fields (and its own defaults, by overriding a field), and
:func:`make_backend` builds the backend it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from shared.console import progress
from shared.recipes import ConfigError, FieldError, flag
from shared.tiny import resolve_backbone

Messages = list[dict[str, str]]
BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "bfloat16", "float16", "float32")


class GenerationSettings(Protocol):
    """The fields a backend reads."""

    max_new_tokens: int
    temperature: float
    top_p: float
    batch_size: int
    seed: int
    chat_template: bool
    dtype: str
    tensor_parallel_size: int
    max_model_len: int
    gpu_memory_utilization: float
    quantization: str


@dataclass
class GenerationConfig:
    """The generator, the backend, its decoding and vLLM's engine fields (:class:`GenerationSettings`), with
    their rules. A chapter's config subclasses it: its own fields follow these, a field redeclared there
    (a default of its own) keeps its place, and its rules extend ``CHOICES``, ``LOWEST`` and ``FRACTIONS``
    (``LOWEST = GenerationConfig.LOWEST | {...}``) or :meth:`problems`."""

    generator: str = flag(
        "Qwen/Qwen2.5-7B-Instruct", "the LLM (HF id or path); 'tiny:qwen2-pretrained' on CPU"
    )
    backend: str = flag("vllm", "vllm (offline engine, CUDA only) | transformers (generate; CPU or GPU)")
    max_new_tokens: int = flag(256, "tokens one generation may take")
    temperature: float = flag(0.7, "sampling temperature; 0 decodes greedily")
    top_p: float = flag(0.8, "nucleus sampling mass")
    batch_size: int = flag(64, "requests sent to the backend at once")
    seed: int = flag(42, "seeds every sampled choice and every request's sampling")
    chat_template: bool = flag(
        True, "send requests through the generator's chat template (instruct models); false: as plain text "
        "(base models and the tiny stand-in)",
    )  # fmt: skip
    # vLLM's engine: whether the generator fits on the GPUs at hand
    tensor_parallel_size: int = flag(1, "GPUs one model is split over")
    max_model_len: int = flag(4096, "the engine's context: prompt plus generated tokens")
    gpu_memory_utilization: float = flag(0.9, "share of each GPU's memory the engine may take")
    dtype: str = flag("auto", "weights' dtype for both backends: auto | bfloat16 | float16 | float32")
    quantization: str = flag(
        "", "vLLM quantization method such as awq, gptq or fp8 ('' reads it from the checkpoint)"
    )

    # The rules: allowed values, lowest values, and fractions in (0, 1].
    CHOICES: ClassVar[dict] = {"backend": BACKENDS, "dtype": DTYPES}
    LOWEST: ClassVar[dict] = {
        "max_new_tokens": 8, "temperature": 0, "batch_size": 1, "tensor_parallel_size": 1,
        "max_model_len": 128,
    }  # fmt: skip
    FRACTIONS: ClassVar[tuple] = ("top_p", "gpu_memory_utilization")

    def problems(self) -> list[tuple[str, str]]:
        """(field, why) for every field out of its range: ``CHOICES``, ``LOWEST``, a fraction in (0, 1], a
        model name, a chat template asked of a tiny plain-text generator. A subclass appends its own."""
        problems = [(name, f"is not one of {' | '.join(allowed)}") for name, allowed in self.CHOICES.items()
                    if getattr(self, name) not in allowed]  # fmt: skip
        problems += [
            (name, f"must be >= {low}") for name, low in self.LOWEST.items() if getattr(self, name) < low
        ]
        problems += [
            (name, "must be in (0, 1]") for name in self.FRACTIONS if not 0 < getattr(self, name) <= 1
        ]
        if not self.generator.strip():
            problems.append(("generator", "must name a model"))
        if self.chat_template and self.generator.startswith("tiny:"):
            problems.append(
                ("chat_template", "with a tiny: generator (pretrained on plain text): set it false")
            )
        return problems

    def __post_init__(self):
        """One :class:`~shared.recipes.FieldError` for the first of :meth:`problems`."""
        problems = self.problems()
        if problems:
            name, why = problems[0]
            raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")


def render(tokenizer, messages: Messages, chat_template: bool = True) -> tuple[str, bool]:
    """(prompt text, whether a chat template wrote it): the template continuing the final assistant message
    when asked for and the tokenizer has one, else the messages as paragraphs ending with that message's
    start."""
    if chat_template and getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, continue_final_message=True)
        return text, True
    return "\n\n".join(m["content"] for m in messages), False


# --- backends -----------------------------------------------------------------------------------------------


class Backend(Protocol):
    def complete(self, requests: Sequence[Messages], seed: int, desc: str) -> list[str]:
        """One sampled continuation of each request's last message, seeded by ``seed``; a bar named ``desc``."""
        ...


def _seed(*keys: int) -> int:
    """A 31-bit seed drawn from integer keys (run seed, batch or request), independent across keys."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


class TransformersBackend:
    """``AutoModelForCausalLM.generate`` over left-padded batches; CUDA when visible, else CPU."""

    def __init__(self, path: str, config: GenerationSettings):
        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=config.dtype).eval()
        self.model.to("cuda" if torch.cuda.is_available() else "cpu")
        stop = self.model.generation_config.eos_token_id
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token_id = stop[0] if isinstance(stop, list) else stop

    def complete(self, requests: Sequence[Messages], seed: int, desc: str) -> list[str]:
        config = self.config
        sample = {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
        options = sample if config.temperature > 0 else {"do_sample": False}
        texts = []
        with progress(desc=desc, total=len(requests), unit="question") as bar:
            for b, at in enumerate(range(0, len(requests), config.batch_size)):
                chunk = requests[at : at + config.batch_size]
                rendered = [render(self.tokenizer, r, config.chat_template) for r in chunk]
                inputs = self.tokenizer(
                    [text for text, _ in rendered], padding=True, return_tensors="pt",
                    add_special_tokens=not rendered[0][1],  # a chat template writes its own special tokens
                ).to(self.model.device)  # fmt: skip
                with torch.random.fork_rng(devices=range(torch.cuda.device_count())), torch.inference_mode():
                    torch.manual_seed(_seed(seed, b))
                    out = self.model.generate(
                        **inputs, max_new_tokens=config.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                        **options,
                    )  # fmt: skip
                width = inputs["input_ids"].shape[1]
                texts += self.tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
                bar.update(len(rendered))
        return texts


def _require_cuda() -> None:
    """A :class:`~shared.recipes.ConfigError` unless a CUDA GPU is visible: what vLLM needs."""
    if not torch.cuda.is_available():
        raise ConfigError("backend: vllm needs a CUDA GPU and none is visible; use --backend transformers")


class VllmBackend:
    """vLLM's offline engine with the recipe's engine fields; request ``i`` sampled from seed ``(seed, i)``."""

    def __init__(self, path: str, config: GenerationSettings):
        _require_cuda()
        try:
            import vllm
        except ImportError:
            raise ConfigError(
                "backend: vllm is not installed (uv sync --extra gpu on a GPU machine); or use --backend "
                "transformers"
            ) from None
        self.config, self.vllm = config, vllm
        self.engine = vllm.LLM(
            model=path, tensor_parallel_size=config.tensor_parallel_size, max_model_len=config.max_model_len,
            gpu_memory_utilization=config.gpu_memory_utilization, dtype=config.dtype,
            quantization=config.quantization or None, seed=config.seed,
        )  # fmt: skip
        self.templated = config.chat_template and bool(
            getattr(self.engine.get_tokenizer(), "chat_template", None)
        )

    def complete(self, requests: Sequence[Messages], seed: int, desc: str) -> list[str]:
        config, texts = self.config, []
        with progress(desc=desc, total=len(requests), unit="question") as bar:
            for at in range(0, len(requests), config.batch_size):
                chunk = list(requests[at : at + config.batch_size])
                params = [
                    self.vllm.SamplingParams(temperature=config.temperature, top_p=config.top_p,
                                             max_tokens=config.max_new_tokens, seed=_seed(seed, at + i))
                    for i in range(len(chunk))
                ]  # fmt: skip
                if self.templated:
                    outputs = self.engine.chat(
                        chunk,
                        params,
                        use_tqdm=False,
                        add_generation_prompt=False,
                        continue_final_message=True,
                    )
                else:  # a base model: the plain-text prompt
                    plain = [render(None, messages, chat_template=False)[0] for messages in chunk]
                    outputs = self.engine.generate(plain, params, use_tqdm=False)
                texts += [output.outputs[0].text for output in outputs]
                bar.update(len(chunk))
        return texts


def make_backend(config: GenerationConfig, texts: Sequence[str] = ()) -> Backend:
    """The configured backend on ``config.generator``; a ``tiny:`` generator is built from ``texts``
    (:func:`shared.tiny.resolve_backbone`). ``vllm`` without a CUDA GPU is a
    :class:`~shared.recipes.ConfigError` before any tiny generator is built."""
    if config.backend == "vllm":
        _require_cuda()
    path = resolve_backbone(config.generator, list(texts))
    return (VllmBackend if config.backend == "vllm" else TransformersBackend)(path, config)
