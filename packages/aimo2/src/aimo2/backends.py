r"""Generation backends behind one small interface, so the solver runs the same on a laptop and on Kaggle.

The AIMO2 baseline (§13.5) and the winners sample many solutions per problem with vLLM; NemoSkills
(§13.6.5) adds FP8 KV cache, speculative decoding and prefix caching, which is what tool-integrated
reasoning needs: each round re-sends the whole turn so far, and the cache serves it. Three backends:

* :class:`VLLMBackend`: vLLM's offline ``LLM`` (GPU only; imported lazily, not installed on CPU machines);
* :class:`TransformersBackend`: ``from_pretrained`` + ``generate``, for CPU runs with a tiny model;
* :class:`SimulatedBackend`: runs NO model. It draws each sample's answer and length from a per-problem
  distribution set by the problem's difficulty level, writes a real-looking ``<think>…</think> …
  \boxed{N}`` text (so answer extraction runs for real), and advances a :class:`SimulatedClock` by the
  decoding time, so that voting rules and time budgets can be studied on CPU in seconds.

A prompt is either chat messages (the generation prompt is added) or an already rendered string. Chat
messages ending with an assistant message are a partial assistant turn that the model continues (as
TIR does after appending an ``output`` block); it is rendered as the chat before it plus its text,
because templates such as DeepSeek-R1's drop the reasoning of assistant messages they render.
"""

from __future__ import annotations

import gc
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from aimo2.constrained import BoxForcing, BoxTokens, ForceBoxLogitsProcessor, digits_regex, forced_prefix
from aimo2.data import DataError, validate_problems
from aimo2.prompts import STYLES, THINK_END, build_messages

__all__ = [
    "Backend",
    "Prompt",
    "Sample",
    "SimulatedBackend",
    "SimulatedClock",
    "SimulatedProblem",
    "TransformersBackend",
    "VLLMBackend",
    "partial_turn",
    "render_prompt",
    "token_limits",
]

Prompt = Sequence[dict[str, str]] | str


@dataclass(frozen=True)
class Sample:
    """One generation. ``seconds``: from the start of its ``generate`` call until it was complete (real
    backends give the whole call's time); ``finish_reason``: "stop" (EOS or a stop string) or "length"."""

    text: str
    n_tokens: int
    seconds: float
    finish_reason: str
    tool_calls: int = 0


class Backend(Protocol):
    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int,
        max_new_tokens: int | Sequence[int],
        temperature: float = 0.6,
        top_p: float = 0.95,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        min_p: float = 0.0,
    ) -> list[list[Sample]]:
        """``n`` samples for each prompt, with one token limit for all prompts or one per prompt.

        Text generated past a stop string is dropped; the stop string is kept. ``min_p`` drops the tokens whose
        probability is below that share of the likeliest one's (0: off).
        """
        ...


def token_limits(max_new_tokens: int | Sequence[int], n_prompts: int) -> list[int]:
    """One token limit per prompt, each at least 1."""
    limits = [max_new_tokens] * n_prompts if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(limits) != n_prompts:
        raise ValueError(f"got {len(limits)} token limits for {n_prompts} prompts")
    if min(limits, default=1) < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {min(limits)}")
    return limits


def render_prompt(tokenizer: PreTrainedTokenizerBase, prompt: Prompt) -> str:
    """The text the model continues: the chat template with its generation prompt, plus any partial turn."""
    if isinstance(prompt, str):
        return prompt
    messages = list(prompt)
    partial = partial_turn(messages)
    if partial is not None:
        messages = messages[:-1]
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return rendered + (partial or "")


def partial_turn(prompt: Prompt) -> str | None:
    """The assistant text to continue, or None when the prompt asks for a new turn (or is a string)."""
    if isinstance(prompt, str) or not prompt or prompt[-1]["role"] != "assistant":
        return None
    return prompt[-1]["content"]


def _still_thinking(prompt: Prompt, generated: str = "") -> bool:
    """Whether the model is inside its reasoning: no ``</think>`` yet in the turn so far."""
    turn = prompt if isinstance(prompt, str) else (partial_turn(prompt) or "")
    return THINK_END not in turn + generated


class _RowLimits(StoppingCriteria):
    """Ends each row at its own token limit (transformers' max_new_tokens is one for the whole batch)."""

    def __init__(self, prompt_length: int, limits: list[int]) -> None:
        self.prompt_length = prompt_length
        self.limits = torch.tensor(limits)

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        return (input_ids.shape[1] - self.prompt_length) >= self.limits.to(input_ids.device)


def _cut_at_stop(text: str, stop: Sequence[str]) -> str | None:
    """The text up to the end of its first stop string, or None if it holds none."""
    ends = [text.find(s) + len(s) for s in stop if s in text]
    return text[: min(ends)] if ends else None


class TransformersBackend:
    """``AutoModelForCausalLM.generate`` with sampling, stop strings and optional box forcing; fine on CPU."""

    def __init__(
        self,
        model_name_or_path: str,
        *,
        force_box: BoxForcing | None = None,
        device: str | None = None,
        dtype: str | torch.dtype = "auto",
    ) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)
        self.tokenizer.padding_side = "left"  # decoder-only batches generate from the right end
        self.model = AutoModelForCausalLM.from_pretrained(model_name_or_path, dtype=dtype)
        self.model.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()
        self.force_box = force_box
        self.box_tokens = BoxTokens.from_tokenizer(self.tokenizer) if force_box else None
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos[0]
        self.end_ids = {i for i in [*eos, self.tokenizer.eos_token_id, self.pad_id] if i is not None}

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int,
        max_new_tokens: int | Sequence[int],
        temperature: float = 0.6,
        top_p: float = 0.95,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        min_p: float = 0.0,
    ) -> list[list[Sample]]:
        limits = token_limits(max_new_tokens, len(prompts))
        # Greedy decoding cannot return several sequences per prompt: repeat the prompts instead.
        per_prompt, copies = (n, 1) if temperature > 0 else (1, n)
        prompts = [p for p in prompts for _ in range(copies)]
        limits = [limit for limit in limits for _ in range(copies)]
        texts = [render_prompt(self.tokenizer, p) for p in prompts]
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.model.device)
        prompt_length = batch["input_ids"].shape[1]
        row_limits = [limit for limit in limits for _ in range(per_prompt)]
        processors = LogitsProcessorList()
        if self.force_box is not None:
            reserve = self.box_tokens.reserve(self.force_box)
            if min(limits) < reserve:
                raise ValueError(
                    f"max_new_tokens={min(limits)} leaves no room for the forced box ({reserve} tokens)"
                )
            processors.append(
                ForceBoxLogitsProcessor(
                    self.box_tokens, self.force_box, budgets=[limit - reserve for limit in limits],
                    thinking=[_still_thinking(p) for p in prompts], prompt_length=prompt_length,
                    num_return_sequences=per_prompt,
                )
            )  # fmt: skip
        sampling = (
            {"temperature": temperature, "top_p": top_p, "min_p": min_p or None} if temperature > 0 else {}
        )
        if seed is not None:
            torch.manual_seed(seed)
        start = time.perf_counter()
        with torch.no_grad():
            output = self.model.generate(
                **batch,
                **sampling,
                do_sample=temperature > 0,
                max_new_tokens=max(limits),
                num_return_sequences=per_prompt,
                stop_strings=list(stop) if stop else None,
                tokenizer=self.tokenizer,
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([_RowLimits(prompt_length, row_limits)]),
                pad_token_id=self.pad_id,
            )
        seconds = time.perf_counter() - start
        generated = output[:, prompt_length:].tolist()
        rows = [
            self._sample(ids[:limit], stop or (), seconds)
            for ids, limit in zip(generated, row_limits, strict=True)
        ]
        return [rows[i : i + n] for i in range(0, len(rows), n)]

    def _sample(self, ids: list[int], stop: Sequence[str], seconds: float) -> Sample:
        """A row's sample; ``ids`` are its tokens up to its own limit, padding after its end included."""
        end = next((i for i, token in enumerate(ids) if token in self.end_ids), None)
        body = ids if end is None else ids[:end]
        text = self.tokenizer.decode(body, skip_special_tokens=False)
        cut = _cut_at_stop(text, stop)
        if cut is not None:  # rows stopped by a string are padded after it; nothing was generated there
            return Sample(cut, len(body), seconds, "stop")
        if end is not None:
            return Sample(text, end + 1, seconds, "stop")
        return Sample(text, len(ids), seconds, "length")


class VLLMBackend:
    """vLLM's offline engine (GPU only). FP8 KV cache (``kv_cache_dtype="fp8"``), AWQ weights
    (``quantization="awq"``) and speculative decoding (``speculative_config``) are NemoSkills' speed-ups.

    Box forcing is a second pass over the cut-off samples: see :mod:`aimo2.constrained` for why.
    """

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        enable_prefix_caching: bool = True,
        quantization: str | None = None,
        max_model_len: int = 32768,
        gpu_memory_utilization: float = 0.9,
        kv_cache_dtype: str = "auto",
        max_num_seqs: int = 256,
        speculative_config: dict | None = None,
        seed: int = 0,
        force_box: BoxForcing | None = None,
        **llm_kwargs,
    ) -> None:
        from vllm import LLM  # GPU-only extra

        self.llm = LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            enable_prefix_caching=enable_prefix_caching,
            quantization=quantization,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            kv_cache_dtype=kv_cache_dtype,
            max_num_seqs=max_num_seqs,
            speculative_config=speculative_config,
            seed=seed,
            **llm_kwargs,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self.force_box = force_box
        self.box_tokens = BoxTokens.from_tokenizer(self.tokenizer) if force_box else None

    def close(self) -> None:
        """Free the GPU memory of the engine before another one is built (``aimo2-reproduce --training on``: GRPO's
        own vLLM, or the trained models' evaluation): vLLM keeps its workers and KV cache until told."""
        from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

        del self.llm
        gc.collect()
        cleanup_dist_env_and_memory()

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int,
        max_new_tokens: int | Sequence[int],
        temperature: float = 0.6,
        top_p: float = 0.95,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        min_p: float = 0.0,
    ) -> list[list[Sample]]:
        from vllm import SamplingParams, TokensPrompt

        limits = token_limits(max_new_tokens, len(prompts))
        prompt_ids = [
            self.tokenizer.encode(render_prompt(self.tokenizer, p), add_special_tokens=False) for p in prompts
        ]
        stop_ids = None
        if self.force_box is not None:
            reserve = self.box_tokens.reserve(self.force_box)
            if min(limits) <= reserve:
                raise ValueError(
                    f"max_new_tokens={min(limits)} leaves no room for the forced box ({reserve} tokens)"
                )
            limits = [limit - reserve for limit in limits]
            if self.force_box.after_think and self.box_tokens.think_end is not None:
                stop_ids = [self.box_tokens.think_end]
        params = [
            SamplingParams(
                n=n,
                max_tokens=limit,
                temperature=temperature,
                top_p=top_p,
                min_p=min_p,
                seed=seed,
                stop=list(stop) if stop else None,
                stop_token_ids=stop_ids,
                skip_special_tokens=False,
            )
            for limit in limits
        ]
        start = time.perf_counter()
        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids], params, use_tqdm=False
        )
        drafts = []
        for output in outputs:
            row = []
            for completion in sorted(output.outputs, key=lambda c: c.index):
                text = completion.text  # without the stop string or stop token, which are added back here
                if isinstance(completion.stop_reason, str):
                    text += completion.stop_reason
                elif stop_ids and completion.stop_reason == stop_ids[0]:
                    text += THINK_END
                row.append([text, list(completion.token_ids), completion.finish_reason])
            drafts.append(row)
        if self.force_box is not None:
            self._force_boxes(prompts, prompt_ids, drafts, stop_ids, temperature, top_p, seed)
        seconds = time.perf_counter() - start
        return [[Sample(text, len(ids), seconds, finish) for text, ids, finish in row] for row in drafts]

    def _force_boxes(self, prompts, prompt_ids, drafts, stop_ids, temperature, top_p, seed) -> None:
        r"""Continue each cut-off (or ``</think>``-stopped) draft with the forced prefix and digits, in place."""
        from vllm import SamplingParams, TokensPrompt
        from vllm.sampling_params import StructuredOutputsParams

        todo, continuations = [], []
        for prompt, ids, row in zip(prompts, prompt_ids, drafts, strict=True):
            for draft in row:
                text, tokens, finish = draft
                stopped_at_think = finish == "stop" and bool(stop_ids) and tokens[-1:] == stop_ids
                if finish != "length" and not stopped_at_think:
                    continue
                prefix = forced_prefix(
                    self.box_tokens.think_end is not None and _still_thinking(prompt, text)
                )
                prefix_ids = self.tokenizer.encode(prefix, add_special_tokens=False)
                todo.append((draft, prefix, prefix_ids))
                continuations.append(TokensPrompt(prompt_token_ids=ids + tokens + prefix_ids))
        if not todo:
            return
        params = SamplingParams(
            n=1, max_tokens=self.force_box.max_digits + 2, temperature=temperature, top_p=top_p, seed=seed,
            structured_outputs=StructuredOutputsParams(regex=digits_regex(self.force_box.max_digits)),
            skip_special_tokens=False,
        )  # fmt: skip
        for (draft, prefix, prefix_ids), output in zip(
            todo, self.llm.generate(continuations, params, use_tqdm=False), strict=True
        ):
            box = output.outputs[0]
            draft[0] += prefix + box.text
            draft[1] += prefix_ids + list(box.token_ids)
            draft[2] = "stop"


class SimulatedClock:
    """A clock that moves only when told to: the stand-in for ``time.monotonic`` in simulations."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self.now += seconds


# Per difficulty level: how often a sample is right, how often it ends with no box, its median length.
LEVEL_ACCURACY = {1: 0.9, 2: 0.75, 3: 0.6, 4: 0.45, 5: 0.3}
LEVEL_NO_BOX = {1: 0.03, 2: 0.05, 3: 0.08, 4: 0.11, 5: 0.14}
LEVEL_MEDIAN_TOKENS = {1: 1200, 2: 2000, 3: 3500, 4: 5500, 5: 8000}
WRONG_LENGTH_FACTOR = 1.5  # wrong samples run longer, as observed with R1 distills
NO_BOX_LENGTH_FACTOR = 2.0
LENGTH_SIGMA = 0.5  # log-normal spread of sample lengths around the problem's median


@dataclass(frozen=True)
class SimulatedProblem:
    """The answer distribution of one problem: the correct answer, distractors, and no-box samples."""

    id: str
    problem: str
    answer: int
    level: int
    p_correct: float
    p_no_box: float
    distractors: tuple[int, ...]
    distractor_probs: tuple[float, ...]
    median_tokens: float

    @classmethod
    def draw(
        cls, id: str, problem: str, answer: int, level: int, rng: np.random.Generator
    ) -> SimulatedProblem:
        """A problem of ``level``: its accuracy jittered by ±0.15; three distractors, one usually dominant."""
        p_correct = float(np.clip(LEVEL_ACCURACY[level] + rng.uniform(-0.15, 0.15), 0.02, 0.98))
        p_no_box = LEVEL_NO_BOX[level]
        others = [a for a in rng.choice(1000, size=4, replace=False).tolist() if a != answer][:3]
        shares = np.sort(rng.dirichlet([0.7, 0.7, 0.7]))[::-1]
        wrong = max(1.0 - p_correct - p_no_box, 0.0)
        return cls(
            id=id,
            problem=problem,
            answer=answer,
            level=level,
            p_correct=p_correct,
            p_no_box=p_no_box,
            distractors=tuple(others),
            distractor_probs=tuple(float(wrong * s) for s in shares),
            median_tokens=LEVEL_MEDIAN_TOKENS[level] * float(np.exp(rng.normal(0.0, 0.2))),
        )


class SimulatedBackend:
    """Stands in for a model; runs none. See the module docstring.

    Each call's samples are drawn from ``(seed, problem id, call seed)``, so they are reproducible and a
    solver that stops early sees exactly the first batches a full run would. A call advances ``clock``
    by its longest sample's decoding time: samples are decoded in parallel at ``tokens_per_second`` each.
    A sample longer than ``max_new_tokens`` is cut (no box, "length"), unless ``force_box`` is set: then
    it gets a box holding its own answer with probability ``forced_accuracy``, else a guess.
    """

    def __init__(
        self,
        problems: Sequence[SimulatedProblem],
        *,
        tokens_per_second: float = 50.0,
        clock: SimulatedClock | None = None,
        seed: int = 0,
        force_box: BoxForcing | None = None,
        forced_accuracy: float = 0.5,
    ) -> None:
        if tokens_per_second <= 0:
            raise ValueError(f"tokens_per_second must be > 0, got {tokens_per_second}")
        self.problems = {p.id: p for p in problems}
        self.tokens_per_second = tokens_per_second
        self.clock = clock or SimulatedClock()
        self.seed = seed
        self.force_box = force_box
        self.forced_accuracy = forced_accuracy
        self._calls = 0
        self._by_content = {
            build_messages(p.problem, style)[0]["content"]: p for p in problems for style in STYLES
        }

    @classmethod
    def from_problems(
        cls, problems: pd.DataFrame, metadata: pd.DataFrame | None = None, *, seed: int = 0, **kwargs
    ) -> SimulatedBackend:
        """From ``id, problem, answer`` rows (``reference.csv``) and, optionally, ``id, level`` metadata
        (``metadata.csv``; every problem is level 3 without it)."""
        problems = validate_problems(problems, with_answers=True)
        levels = {} if metadata is None else dict(zip(metadata["id"], metadata["level"], strict=True))
        drawn = []
        for row, (id_, problem, answer) in enumerate(
            problems[["id", "problem", "answer"]].itertuples(index=False), 1
        ):
            if metadata is not None and id_ not in levels:
                raise DataError(f"metadata: no row for the problem of row {row} (id {id_!r}), column 'level'")
            level = levels.get(id_, 3)
            if level not in LEVEL_ACCURACY:
                raise DataError(f"metadata: id {id_!r}, column 'level': {level!r} is not an integer in 1..5")
            rng = np.random.default_rng([seed, zlib.crc32(id_.encode())])
            drawn.append(SimulatedProblem.draw(id_, problem, int(answer), int(level), rng))
        return cls(drawn, seed=seed, **kwargs)

    def problem_for(self, prompt: Prompt) -> SimulatedProblem:
        """The problem whose user message (built by :func:`aimo2.prompts.build_messages`) starts the chat."""
        if not isinstance(prompt, str):
            user = next((m["content"] for m in prompt if m["role"] == "user"), None)
            if user in self._by_content:
                return self._by_content[user]
        raise ValueError(
            "SimulatedBackend: the prompt is not the user message of any problem it was built from"
        )

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int,
        max_new_tokens: int | Sequence[int],
        temperature: float = 0.6,
        top_p: float = 0.95,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        min_p: float = 0.0,
    ) -> list[list[Sample]]:
        """Sampling settings and stop strings are accepted for the interface; simulated texts hold no code."""
        limits = token_limits(max_new_tokens, len(prompts))
        call_seed = self._calls if seed is None else seed
        self._calls += 1
        rows = []
        for prompt, limit in zip(prompts, limits, strict=True):
            problem = self.problem_for(prompt)
            rng = np.random.default_rng([self.seed, zlib.crc32(problem.id.encode()), call_seed])
            rows.append([self._sample(problem, rng, limit) for _ in range(n)])
        self.clock.advance(max(s.seconds for row in rows for s in row))
        return rows

    def _sample(self, problem: SimulatedProblem, rng: np.random.Generator, limit: int) -> Sample:
        options = [problem.answer, *problem.distractors, None]
        probs = np.array([problem.p_correct, *problem.distractor_probs, problem.p_no_box])
        answer = options[rng.choice(len(options), p=probs / probs.sum())]
        if answer is None:
            factor = NO_BOX_LENGTH_FACTOR
        else:
            factor = 1.0 if answer == problem.answer else WRONG_LENGTH_FACTOR
        length = max(50, round(problem.median_tokens * factor * rng.lognormal(0.0, LENGTH_SIGMA)))
        if length <= limit:
            text = f"<think>\nWorking through problem {problem.id} step by step ({length} tokens).\n{THINK_END}\n\n"
            if answer is None:
                text += "I could not finish the computation."
            else:  # now and then the model forgets the modulo and extraction reduces it
                shown = answer + 1000 * int(rng.integers(1, 10)) if rng.random() < 0.2 else answer
                text += f"The answer is $\\boxed{{{shown}}}$."
            return Sample(text, length, length / self.tokens_per_second, "stop")
        text = f"<think>\nWorking through problem {problem.id} step by step, cut off after {limit} tokens"
        if self.force_box is None:
            return Sample(text, limit, limit / self.tokens_per_second, "length")
        kept = answer is not None and rng.random() < self.forced_accuracy
        forced = answer if kept else int(rng.integers(0, 1000))
        text += forced_prefix(thinking=True) + f"{forced}}}"
        return Sample(text, limit, limit / self.tokens_per_second, "stop")
