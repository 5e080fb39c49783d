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
The backends read their settings from any object with the attributes of :class:`GenerationSettings` (a
chapter's own config dataclass).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from shared.console import progress
from shared.recipes import ConfigError

Messages = list[dict[str, str]]


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


class VllmBackend:
    """vLLM's offline engine with the recipe's engine fields; request ``i`` sampled from seed ``(seed, i)``."""

    def __init__(self, path: str, config: GenerationSettings):
        if not torch.cuda.is_available():
            raise ConfigError(
                "backend: vllm needs a CUDA GPU and none is visible; use --backend transformers"
            )
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
