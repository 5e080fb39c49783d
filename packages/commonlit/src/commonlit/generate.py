"""LLM-generated extra data: new prompts and summaries of varied quality (1st place, discussion 447293).

The winners had an LLM write new prompts (a source passage with its question) and many summaries of
varied quality, for the training prompts and for the new ones; the fold models then pseudo-labelled the
summaries (:mod:`commonlit.pseudo`) and the models trained on them. The write-up names neither the LLM
nor its prompts; this module is one faithful way to do it, and only the generation half:

1. **new prompts**: the LLM is shown one training prompt as an example and asked for a new assignment on
   another kind of text (``GENRES``, cycled), as ``Title:``, ``Question:`` and ``Passage:``; answers
   that do not parse, have too short a passage, or copy a known passage (a training one or an earlier new
   one: one verbatim span holding more than ``max_copy_ratio`` of its words) are dropped and counted;
2. **summaries**: for every training prompt and every kept new prompt, ``summaries_per_prompt``
   summaries, each asked for with one of ``instructions`` (cycled), from a strong paraphrase to a weak
   copy with spelling mistakes, so that the generated set spans the label range. Summaries that are empty
   or too short, duplicate another summary (generated or real), or copy the passage (one verbatim span
   holding more than ``max_copy_ratio`` of their words) are dropped and counted.

Nothing is dropped silently: ``counts`` has ``generated == kept + sum(dropped_*)`` for summaries and the
same with a ``prompts_`` prefix for new prompts. Prompts go through the generator's chat template when its
tokenizer has one (instruct models, the tiny Qwen2's ChatML), else as plain text.

Two backends behind one ``generate(prompts, *, max_new_tokens, seed, desc) -> texts`` method, so a test
can inject its own: ``transformers`` (``AutoModelForCausalLM.generate``, left-padded batches, seeded; the
CPU path) and ``vllm`` (the offline ``vllm.LLM`` engine with the recipe's engine fields, one seed per
request; CUDA only, and without CUDA it says to use ``--backend transformers``).

``commonlit-generate --config competitions/commonlit/recipes/generate.yaml`` writes ``generated.csv``,
``generated_prompts.csv`` (the new prompts that kept at least one summary), ``counts.json`` and the
resolved ``config.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer, HfArgumentParser

from commonlit.paths import open_run, resolve_data_dir
from shared.console import progress
from shared.recipes import ConfigError, FieldError, parse_config
from shared.tiny import resolve_backbone

if TYPE_CHECKING:
    from commonlit.data import CommonlitData

BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "bfloat16", "float16", "float32")
COLUMNS = ("student_id", "prompt_id", "text", "prompt_question", "prompt_title", "prompt_text", "origin",
           "instruction")  # fmt: skip
TRAIN_COLUMNS = ("student_id", "prompt_id", "text", "prompt_question", "prompt_title", "prompt_text")
SUMMARY_DROPS = ("empty_or_short", "duplicate", "copy_of_passage")
PROMPT_DROPS = ("unparseable", "passage_too_short", "copy_of_known_passage")

# Cycled over each prompt's summaries: from what earns high content and wording scores to what earns low.
INSTRUCTIONS = [
    "an excellent summary that explains all the key ideas of the text in your own words",
    "a good summary that covers most of the key ideas, mostly in your own words",
    "an average summary that covers a few key ideas and copies some phrases from the text",
    "a weak summary that mostly copies whole sentences from the text",
    "a short, vague summary that misses most of the key ideas",
    "a summary with many spelling and grammar mistakes, like a struggling young student",
    "a summary that retells only the first paragraph and adds your own opinion",
]
# Cycled over the new prompts, so that they differ from each other and from the examples.
GENRES = [
    "an informational article about a scientific discovery",
    "a historical account of an important event",
    "a short story with a clear lesson",
    "a biography of a remarkable person",
    "an article about how an invention changed daily life",
    "an article about an animal and its habitat",
    "an opinion essay about a question that divides people",
    "a myth or legend and what it explains",
    "an article about a problem in a city and how people solved it",
    "a famous speech and the situation in which it was given",
]
EXAMPLE_WORDS = 250  # the example prompt's passage is cut to this many words
PROMPT_START = "Title:"  # the start of a new prompt's answer, written for the model


@dataclass
class GenerateConfig:
    """What ``commonlit-generate`` asks the LLM for, and with which engine."""

    generator: str = field(
        default="Qwen/Qwen2.5-7B-Instruct",
        metadata={"help": "HF id or path of the LLM; 'tiny:qwen2-pretrained' a tiny Qwen2 pretrained on the data"},
    )  # fmt: skip
    backend: str = field(default="vllm", metadata={"help": "transformers (CPU or GPU) | vllm (CUDA only)"})
    n_new_prompts: int = field(default=100, metadata={"help": "new prompts to ask for (0 = none)"})
    summaries_per_prompt: int = field(
        default=40, metadata={"help": "summaries per training prompt and per kept new prompt"}
    )
    max_new_tokens: int = field(default=256, metadata={"help": "token limit of a summary"})
    prompt_max_new_tokens: int = field(default=1024, metadata={"help": "token limit of a new prompt"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature (0 = greedy)"})
    top_p: float = 0.95
    seed: int = 42
    batch_size: int = field(
        default=256, metadata={"help": "prompts per generate call (transformers: one padded batch)"}
    )
    instructions: list[str] = field(
        default_factory=lambda: list(INSTRUCTIONS),
        metadata={"help": "what kind of summary to ask for, cycled over each prompt's summaries"},
    )
    min_words: int = field(default=8, metadata={"help": "drop summaries with fewer words"})
    min_passage_words: int = field(default=120, metadata={"help": "drop new prompts with a shorter passage"})
    max_copy_ratio: float = field(
        default=0.9, metadata={"help": "drop summaries with more of their words in one verbatim span of the passage"}
    )  # fmt: skip
    # --- vLLM engine (what decides whether the model fits) ------------------------------------------------
    tensor_parallel_size: int = 1
    max_model_len: int = field(default=8192, metadata={"help": "prompt + generated tokens"})
    gpu_memory_utilization: float = 0.9
    dtype: str = field(
        default="auto", metadata={"help": "auto | bfloat16 | float16 | float32 (both backends)"}
    )
    quantization: str = field(
        default="", metadata={"help": "vLLM quantization, e.g. awq, gptq, fp8 ('' = none)"}
    )

    def __post_init__(self):
        checks = (
            ("generator", not self.generator, "must name a model"),
            ("backend", self.backend not in BACKENDS, f"is not one of {' | '.join(BACKENDS)}"),
            ("n_new_prompts", self.n_new_prompts < 0, "must be >= 0"),
            ("summaries_per_prompt", self.summaries_per_prompt < 1, "must be >= 1"),
            ("max_new_tokens", self.max_new_tokens < 1, "must be >= 1"),
            ("prompt_max_new_tokens", self.prompt_max_new_tokens < 1, "must be >= 1"),
            ("temperature", self.temperature < 0, "must be >= 0"),
            ("top_p", not 0 < self.top_p <= 1, "must be in (0, 1]"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("instructions", not self.instructions or not all(s.strip() for s in self.instructions),
             "must be a non-empty list of non-empty instructions"),
            ("min_words", self.min_words < 1, "must be >= 1"),
            ("min_passage_words", self.min_passage_words < 1, "must be >= 1"),
            ("max_copy_ratio", not 0 < self.max_copy_ratio <= 1, "must be in (0, 1]"),
            ("tensor_parallel_size", self.tensor_parallel_size < 1, "must be >= 1"),
            ("max_model_len", self.max_model_len < 64, "must be >= 64"),
            ("gpu_memory_utilization", not 0 < self.gpu_memory_utilization <= 1, "must be in (0, 1]"),
            ("dtype", self.dtype not in DTYPES, f"is not one of {' | '.join(DTYPES)}"),
        )  # fmt: skip
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")


Messages = list[dict[str, str]]


class Backend(Protocol):
    def generate(
        self, prompts: Sequence[Messages], *, max_new_tokens: int, seed: int, desc: str
    ) -> list[str]:
        """One completion per chat prompt (sampled as configured), seeded by ``seed``; a bar named ``desc``."""
        ...


def _derive(*keys: int) -> int:
    """A 32-bit seed from integers (a stage, a batch or a request), independent across keys."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0])


def render(tokenizer, messages: Messages) -> tuple[str, bool]:
    """(text to continue, whether it came from the chat template): the template with its generation prompt,
    else the messages as paragraphs. A last assistant message is the start of the answer, continued."""
    partial = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
    asked = messages[:-1] if partial else messages
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            asked, add_generation_prompt=True, tokenize=False
        ) + partial, True
    return "".join(m["content"] + "\n\n" for m in asked) + partial, False


class TransformersBackend:
    """``AutoModelForCausalLM.generate`` in left-padded batches of ``batch_size``; batch ``b`` is sampled
    from seed ``(seed, b)`` without moving the caller's RNG. CUDA when visible, else CPU."""

    def __init__(self, model: str, config: GenerateConfig) -> None:
        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"  # decoder-only batches generate from the right end
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=config.dtype)
        self.model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        eos = self.model.generation_config.eos_token_id
        eos = eos[0] if isinstance(eos, list) else eos
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos

    def generate(
        self, prompts: Sequence[Messages], *, max_new_tokens: int, seed: int, desc: str
    ) -> list[str]:
        rendered = [render(self.tokenizer, p) for p in prompts]
        sampling = (
            dict(do_sample=True, temperature=self.config.temperature, top_p=self.config.top_p)
            if self.config.temperature > 0
            else dict(do_sample=False)
        )
        texts, size = [], self.config.batch_size
        with progress(desc=desc, total=len(prompts), unit="text") as bar:
            for b, start in enumerate(range(0, len(rendered), size)):
                chunk = rendered[start : start + size]
                batch = self.tokenizer(
                    [text for text, _ in chunk],
                    return_tensors="pt",
                    padding=True,
                    add_special_tokens=not chunk[0][1],  # a chat template writes its own special tokens
                ).to(self.model.device)
                with torch.random.fork_rng(devices=range(torch.cuda.device_count())), torch.no_grad():
                    torch.manual_seed(_derive(seed, b))
                    ids = self.model.generate(
                        **batch, max_new_tokens=max_new_tokens, pad_token_id=self.pad_id, **sampling
                    )
                new = ids[:, batch["input_ids"].shape[1] :]
                texts += self.tokenizer.batch_decode(new, skip_special_tokens=True)
                bar.update(len(chunk))
        return texts


class VLLMBackend:
    """vLLM's offline engine with the recipe's engine fields; request ``i`` is sampled from seed ``(seed, i)``.
    Prompts go in ``batch_size`` at a time (the engine batches within a call), so the bar moves."""

    def __init__(self, model: str, config: GenerateConfig) -> None:
        if not torch.cuda.is_available():
            raise ConfigError(
                "backend: vllm needs a CUDA GPU and none is visible; on CPU use --backend transformers "
                "(with a small generator, e.g. --generator tiny:qwen2-pretrained)"
            )
        try:
            from vllm import LLM
        except ImportError:
            raise ConfigError(
                "backend: vllm is not installed; install the GPU extra (uv sync --extra gpu) or use "
                "--backend transformers"
            ) from None
        self.config = config
        self.llm = LLM(
            model=model,
            tensor_parallel_size=config.tensor_parallel_size,
            max_model_len=config.max_model_len,
            gpu_memory_utilization=config.gpu_memory_utilization,
            dtype=config.dtype,
            quantization=config.quantization or None,
            seed=config.seed,
        )
        self.tokenizer = self.llm.get_tokenizer()

    def generate(
        self, prompts: Sequence[Messages], *, max_new_tokens: int, seed: int, desc: str
    ) -> list[str]:
        from vllm import SamplingParams, TokensPrompt

        requests = []
        for messages in prompts:
            text, templated = render(self.tokenizer, messages)
            ids = self.tokenizer.encode(text, add_special_tokens=not templated)
            requests.append(TokensPrompt(prompt_token_ids=ids))
        texts, size = [], self.config.batch_size
        with progress(desc=desc, total=len(prompts), unit="text") as bar:
            for start in range(0, len(requests), size):
                chunk = requests[start : start + size]
                params = [
                    SamplingParams(n=1, temperature=self.config.temperature, top_p=self.config.top_p,
                                   max_tokens=max_new_tokens, seed=_derive(seed, start + i))
                    for i in range(len(chunk))
                ]  # fmt: skip
                outputs = self.llm.generate(chunk, params, use_tqdm=False)
                texts += [output.outputs[0].text for output in outputs]
                bar.update(len(chunk))
        return texts


def make_backend(config: GenerateConfig, texts: Sequence[str]) -> Backend:
    """The configured backend; ``texts`` train a ``tiny:`` generator's tokenizer (and pretrain it)."""
    model = resolve_backbone(config.generator, texts)
    return (VLLMBackend if config.backend == "vllm" else TransformersBackend)(model, config)


def assignment(title: str, question: str, passage: str) -> str:
    """A prompt as the LLM is shown one and asked to write one."""
    return f"Title: {title}\nQuestion: {question}\nPassage:\n{passage}"


def pretraining_texts(train: pd.DataFrame) -> list[str]:
    """What a ``tiny:`` generator learns from: each prompt once, as an :func:`assignment` (so that it can
    write one when asked), then every training summary."""
    prompts = train.drop_duplicates("prompt_id")
    shown = [assignment(p.prompt_title, p.prompt_question, p.prompt_text) for p in prompts.itertuples()]
    return [t for t in shown + train["text"].tolist() if t.strip()]


def prompt_messages(example: pd.Series, genre: str) -> Messages:
    """Ask for a new assignment like ``example`` (a training prompt), on ``genre``; the answer is started
    with ``PROMPT_START`` (the model continues it), which keeps even a small model in the format."""
    excerpt = " ".join(example["prompt_text"].split()[:EXAMPLE_WORDS])
    shown = assignment(example["prompt_title"], example["prompt_question"], excerpt)
    return [
        {"role": "system", "content": "You write reading assignments for students in grades 3 to 12."},
        {"role": "user", "content": (
            f"Here is an example of an assignment (its passage is cut short).\n\n{shown}\n\n"
            f"Write a new assignment of the same kind, on a different topic: {genre}. Answer in exactly this "
            "format: a line 'Title: ...', a line 'Question: ...' asking the student to summarize the passage, "
            "then 'Passage:' followed by the passage itself, three to six paragraphs long."
        )},
        {"role": "assistant", "content": PROMPT_START},
    ]  # fmt: skip


def summary_messages(title: str, question: str, passage: str, instruction: str) -> Messages:
    """Ask a student-like writer for one summary of the given kind."""
    return [
        {"role": "system", "content": "You are a student in grades 3 to 12 doing a reading assignment."},
        {"role": "user", "content": (
            f"Title: {title}\n\nText:\n{passage}\n\nAssignment: {question}\n\n"
            f"Write {instruction}. Reply with the summary only, no title or heading."
        )},
    ]  # fmt: skip


_LABELS = re.compile(r"^[\s#>*_-]*(title|question|passage)[*_\s]*:[*_\s]*", re.I | re.M)


def parse_prompt(text: str) -> dict[str, str] | None:
    """``{"prompt_title", "prompt_question", "prompt_text"}`` from a ``Title:/Question:/Passage:`` answer
    (markdown bold and headings allowed), or None when a field is missing or empty."""
    marks = list(_LABELS.finditer(text))
    fields = {}
    for mark, end in zip(marks, [m.start() for m in marks[1:]] + [len(text)], strict=False):
        fields.setdefault(mark.group(1).lower(), text[mark.end() : end].strip())
    if not all(fields.get(name) for name in ("title", "question", "passage")):
        return None
    title, question = (fields[name].splitlines()[0].strip(" *_\"'") for name in ("title", "question"))
    if not title or not question:
        return None
    return {"prompt_title": title, "prompt_question": question, "prompt_text": fields["passage"]}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def copied_ratio(summary_words: list[str], passage: SequenceMatcher) -> float:
    """Share of the summary's words in its longest verbatim word span of the passage (``passage`` holds the
    passage's words as its second sequence)."""
    if not summary_words:
        return 0.0
    passage.set_seq1(summary_words)
    return passage.find_longest_match(0, len(summary_words), 0, len(passage.b)).size / len(summary_words)


def _passage_matcher(passage: str) -> SequenceMatcher:
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(words(passage))
    return matcher


class _Ids:
    """New ids (``prefix`` + hex of ``(seed, key)``), unique among themselves and the ``taken`` ones."""

    def __init__(self, prefix: str, length: int, seed: int, taken) -> None:
        self.prefix, self.length, self.seed, self.taken = prefix, length, seed, set(taken)

    def __call__(self, key: str) -> str:
        salt = 0
        while True:
            digest = hashlib.blake2b(f"{self.seed}|{key}|{salt}".encode(), digest_size=16).hexdigest()
            new = self.prefix + digest[: self.length]
            if new not in self.taken:
                self.taken.add(new)
                return new
            salt += 1


def new_prompts(config: GenerateConfig, train: pd.DataFrame, backend: Backend, counts: dict) -> pd.DataFrame:
    """Step 1: the kept new prompts (``prompt_id, prompt_question, prompt_title, prompt_text``)."""
    examples = train.drop_duplicates("prompt_id").reset_index(drop=True)
    asks = [prompt_messages(examples.iloc[i % len(examples)], GENRES[i % len(GENRES)])
            for i in range(config.n_new_prompts)]  # fmt: skip
    answers = backend.generate(
        asks, max_new_tokens=config.prompt_max_new_tokens, seed=_derive(config.seed, 1), desc="generate prompts"
    ) if asks else []  # fmt: skip
    known = [_passage_matcher(t) for t in examples["prompt_text"]]  # training passages, then kept new ones
    new_id = _Ids("g", 8, config.seed, train["prompt_id"])
    rows, drops = [], dict.fromkeys(PROMPT_DROPS, 0)
    for i, answer in enumerate(answers):
        parsed = parse_prompt(PROMPT_START + answer)
        if parsed is None:
            drops["unparseable"] += 1
            continue
        passage = words(parsed["prompt_text"])
        if len(passage) < config.min_passage_words:
            drops["passage_too_short"] += 1
        elif any(copied_ratio(passage, matcher) > config.max_copy_ratio for matcher in known):
            drops["copy_of_known_passage"] += 1
        else:
            known.append(_passage_matcher(parsed["prompt_text"]))
            rows.append({"prompt_id": new_id(f"prompt-{i}"), **parsed})
    counts.update(prompts_generated=len(answers), prompts_kept=len(rows))
    counts.update({f"prompts_dropped_{reason}": n for reason, n in drops.items()})
    return pd.DataFrame(rows, columns=["prompt_id", "prompt_question", "prompt_title", "prompt_text"])


def generate(
    config: GenerateConfig, data: CommonlitData, backend: Backend | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """New prompts, then summaries for every training and kept new prompt, filtered (module docstring).

    Returns the kept rows (``COLUMNS``; ids new and unique, never a training id) and the counts. ``backend``
    replaces the configured one (tests inject a scripted one)."""
    train = data.train
    missing = [c for c in TRAIN_COLUMNS if c not in train.columns]
    if missing:
        raise ValueError(f"data.train: missing column(s) {missing}")
    if train.empty:
        raise ValueError("data.train: no rows to take prompts from")
    backend = backend or make_backend(config, pretraining_texts(train))
    counts: dict[str, int] = {}
    created = new_prompts(config, train, backend, counts)
    prompts = pd.concat(
        [train.drop_duplicates("prompt_id")[list(created.columns)].assign(origin="train-prompt"),
         created.assign(origin="new-prompt")], ignore_index=True,
    )  # fmt: skip
    n = config.summaries_per_prompt
    jobs = [
        (p, config.instructions[j % len(config.instructions)]) for p in prompts.itertuples() for j in range(n)
    ]
    asks = [summary_messages(p.prompt_title, p.prompt_question, p.prompt_text, how) for p, how in jobs]
    texts = backend.generate(asks, max_new_tokens=config.max_new_tokens, seed=_derive(config.seed, 2),
                             desc="generate summaries")  # fmt: skip
    new_id = _Ids("gen", 12, config.seed, train["student_id"])
    seen = {" ".join(words(t)) for t in train["text"]}
    matchers = {p.prompt_id: _passage_matcher(p.prompt_text) for p in prompts.itertuples()}
    rows, drops = [], dict.fromkeys(SUMMARY_DROPS, 0)
    for k, ((p, how), text) in enumerate(zip(jobs, texts, strict=True)):
        text = text.strip()
        tokens = words(text)
        key = " ".join(tokens)
        if len(tokens) < config.min_words:
            drops["empty_or_short"] += 1
        elif key in seen:
            drops["duplicate"] += 1
        elif copied_ratio(tokens, matchers[p.prompt_id]) > config.max_copy_ratio:
            drops["copy_of_passage"] += 1
        else:
            seen.add(key)
            rows.append(dict(student_id=new_id(f"{p.prompt_id}-{k}"), prompt_id=p.prompt_id, text=text,
                             prompt_question=p.prompt_question, prompt_title=p.prompt_title,
                             prompt_text=p.prompt_text, origin=p.origin, instruction=how))  # fmt: skip
    counts.update(generated=len(texts), kept=len(rows), **{f"dropped_{r}": c for r, c in drops.items()})
    return pd.DataFrame(rows, columns=list(COLUMNS)), counts


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "Kaggle files; default competitions/commonlit/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/commonlit/generate-<timestamp>"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((GenerateConfig, RunArguments))


def main(argv: list[str] | None = None) -> None:
    """``commonlit-generate --config recipe.yaml [--data-dir DIR] [--output-dir DIR] [--verbose]``."""
    from commonlit.data import DataError, load_competition  # the data layer only when the command runs

    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, described = resolve_data_dir(run.data_dir)
        data = load_competition(data_dir)
        out = open_run(run.output_dir, "generate", run.verbose)
        (out / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
        frame, counts = generate(config, data)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    frame.to_csv(out / "generated.csv", index=False)
    created = frame[frame["origin"] == "new-prompt"].drop_duplicates("prompt_id")
    created[["prompt_id", "prompt_question", "prompt_title", "prompt_text"]].to_csv(
        out / "generated_prompts.csv", index=False
    )
    (out / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    drops = ", ".join(
        f"{k.removeprefix('dropped_')} {v}" for k, v in counts.items() if k.startswith("dropped_")
    )
    print(f"{config.generator} on {described}: {counts['prompts_kept']}/{counts['prompts_generated']} new "
          f"prompts kept; {counts['kept']}/{counts['generated']} summaries kept (dropped: {drops}); wrote {out}")  # fmt: skip


if __name__ == "__main__":
    main()
