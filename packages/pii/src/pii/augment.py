"""``pii-augment``: LLM-written essays with PII placeholders, filled with Faker values and labelled (§10.5.3).

Why: the rare entity types (phone numbers, street addresses, usernames) occur only a handful of times in
the 6,807 training essays. The top teams asked instruct LLMs (Mistral/Mixtral, Llama-3 on vLLM) for
thousands of new student essays and shared them as external data sets. The LLM writes placeholders such
as ``{NAME_STUDENT}`` instead of personal details and we fill them with Faker values (the generators of
:mod:`pii.synth`), so every label comes from a span we wrote ourselves and is exact; asking the model to
*mark* PII would inherit its mistakes. Placeholders for hard negatives (``{CITED_AUTHOR}``,
``{INSTRUCTOR}``, ``{URL_PUBLIC}``) put the same kind of names and links where they must stay 'O'.

Steps: varied prompts (persona, voice, topic, structure, length, which placeholders) -> generation (vLLM
on a GPU, transformers ``generate`` on CPU) -> placeholders parsed (spacing, case and ``{{double}}``
variants tolerated) -> filled -> tokenised with ``spacy.blank("en")`` as the competition was -> BIO labels
(a token overlapping a PII span gets its label) -> validated as :mod:`pii.data` validates. Unusable
generations are dropped and counted by reason, never silently: ``augment_stats.json`` has the counts and
``generations.jsonl`` every generation with its fate. ``augment.json`` is in the train.json layout with
ids from ``first_document_id`` on, ready to be an ``extra_data`` file of a training recipe.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np
import spacy
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, HfArgumentParser

from pii.data import DataError, Document, load_documents
from pii.labels import ENTITY_TYPES, SINGLE_TOKEN_TYPES, bio_to_spans, spans_to_bio
from pii.paths import open_run
from pii.synth import (
    ENTITY_SLOTS,
    LOCALES,
    ORGS,
    PROBLEMS,
    TOOLS,
    Entity,
    EssayWriter,
    faker_for,
    write_documents,
)
from shared.console import progress
from shared.recipes import ConfigError, FieldError, parse_config
from shared.tiny import tiny_causal_lm


class Placeholder(NamedTuple):
    slot: str  # the pii.synth slot that draws the value
    label: str  # entity type, or 'O' for a hard negative
    hint: str  # what the prompt tells the LLM it stands for


PLACEHOLDERS = {
    "NAME_STUDENT": Placeholder("student", "NAME_STUDENT", "your own full name (in a header, a signature or a sentence)"),
    "NAME_TEAMMATE": Placeholder("teammate", "NAME_STUDENT", "the full name of a classmate or teammate"),
    "EMAIL": Placeholder("email", "EMAIL", "your email address"),
    "USERNAME": Placeholder("username", "USERNAME", "your username on the course forum or a social network"),
    "ID_NUM": Placeholder("id_num", "ID_NUM", "your student ID number"),
    "PHONE_NUM": Placeholder("phone", "PHONE_NUM", "your phone number"),
    "URL_PERSONAL": Placeholder("personal_url", "URL_PERSONAL", "a link to your own portfolio, video, GitHub or LinkedIn page"),
    "STREET_ADDRESS": Placeholder("address", "STREET_ADDRESS", "your home address"),
    "CITED_AUTHOR": Placeholder("cited_author", "O", "the name of an author you cite"),
    "INSTRUCTOR": Placeholder("instructor", "O", "the name of your course instructor"),
    "URL_PUBLIC": Placeholder("public_url", "O", "a link to a public article or web page you read"),
}  # fmt: skip
PII_PLACEHOLDERS = tuple(name for name, p in PLACEHOLDERS.items() if p.label != "O")
NEGATIVE_PLACEHOLDERS = tuple(name for name, p in PLACEHOLDERS.items() if p.label == "O")
DROP_REASONS = ("empty", "unbalanced_braces", "unknown_placeholder", "no_placeholder", "invalid")
BACKENDS = ("vllm", "transformers")
PRESETS = ("auto", "cpu", "full")
TINY = "tiny"  # model name that builds a tiny random local Qwen2 (shared.tiny)
CPU_LIMITS = {"n_essays": 8, "max_new_tokens": 48}

# --------------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------------
PERSONAS = ["a nurse", "a secondary-school teacher", "a software developer at a start-up", "a logistics coordinator",
            "a first-year engineering student", "a marketing intern", "a small-business owner",
            "a volunteer at a non-profit", "a civil servant", "a graduate student in public health",
            "a retail store manager", "a librarian"]  # fmt: skip
VOICES = ["you write fluently and warmly", "English is your second language and you make small grammar mistakes",
          "you write in a concise, matter-of-fact way", "you write informally and enthusiastically",
          "you write formally, like a short academic paper"]  # fmt: skip
STRUCTURES = ["a reflection with the sections Challenge, Selection, Application and Insight",
              "a free-form reflection in a few paragraphs", "a short report with a title and headings",
              "a personal story in the first person"]  # fmt: skip
_PROMPT = """You are {persona}, and {voice}. You have just finished the online course "Design Thinking for \
Innovation". Write {structure} of about {words} words about how you applied {tool} to {problem} at {org}.

Do not write any real or invented personal details. Wherever the essay needs one of the details below, \
write its placeholder exactly as shown, curly braces included:
{placeholders}

Use every placeholder above at least once. Do not invent other placeholders and do not use curly braces \
for anything else. Reply with the essay only."""


@dataclass(frozen=True)
class EssayPrompt:
    """One request to the LLM: the user message and the placeholders it asks for."""

    text: str
    placeholders: tuple[str, ...]

    @property
    def messages(self) -> list[dict]:
        # a single user turn: some chat templates (Mistral's) refuse a system turn
        return [{"role": "user", "content": self.text}]


def build_prompts(
    n: int,
    rng: np.random.Generator,
    *,
    min_words: int = 250,
    max_words: int = 700,
    max_pii: int = 3,
    negative_rate: float = 0.5,
) -> list[EssayPrompt]:
    """``n`` varied essay requests, each asking for 1..``max_pii`` PII placeholders and, with probability
    ``negative_rate``, one or two hard-negative placeholders."""

    def pick(pool):
        return pool[rng.integers(len(pool))]

    prompts = []
    for _ in range(n):
        names = list(rng.choice(PII_PLACEHOLDERS, size=rng.integers(1, max_pii + 1), replace=False))
        if rng.random() < negative_rate:
            names += list(rng.choice(NEGATIVE_PLACEHOLDERS, size=rng.integers(1, 3), replace=False))
        text = _PROMPT.format(
            persona=pick(PERSONAS),
            voice=pick(VOICES),
            structure=pick(STRUCTURES),
            words=int(rng.integers(min_words, max_words + 1) // 10 * 10),
            tool=pick(TOOLS),
            problem=pick(PROBLEMS),
            org=pick(ORGS),
            placeholders="\n".join(f"{{{name}}}: {PLACEHOLDERS[name].hint}" for name in names),
        )
        prompts.append(EssayPrompt(text, tuple(str(name) for name in names)))
    return prompts


def chat_texts(tokenizer, prompts: Sequence[EssayPrompt]) -> list[str]:
    """The prompts rendered with the tokenizer's chat template, ready for the assistant's turn."""
    return [
        tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True) for p in prompts
    ]


# --------------------------------------------------------------------------------------------------
# Generation backends
# --------------------------------------------------------------------------------------------------
def generate_transformers(
    prompts: Sequence[EssayPrompt],
    model_path: str,
    *,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    batch_size: int,
    seed: int,
) -> list[str]:
    """Sampled essays from transformers ``generate`` (left-padded batches); deterministic on CPU."""
    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device).eval()
    texts = chat_texts(tokenizer, prompts)
    torch.manual_seed(seed)
    outputs = []
    for start in progress(range(0, len(texts), batch_size), desc="generating essays", unit="batch"):
        batch = tokenizer(
            texts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(device)
        with torch.inference_mode():
            ids = model.generate(
                **batch,
                do_sample=True,
                temperature=temperature,
                top_p=top_p,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
            )
        outputs += tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    return outputs


def generate_vllm(
    prompts: Sequence[EssayPrompt],
    model: str,
    *,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    seed: int,
    tensor_parallel_size: int = 1,
    gpu_memory_utilization: float = 0.9,
    max_model_len: int = 4096,
) -> list[str]:
    """Sampled essays from vLLM's offline ``LLM.chat`` (it applies the model's chat template)."""
    from vllm import LLM, SamplingParams  # GPU-only extra

    llm = LLM(
        model=model,
        seed=seed,
        tensor_parallel_size=tensor_parallel_size,
        gpu_memory_utilization=gpu_memory_utilization,
        max_model_len=max_model_len,
    )
    params = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_new_tokens)
    outputs = llm.chat([p.messages for p in prompts], sampling_params=params, use_tqdm=True)
    return [output.outputs[0].text for output in outputs]


# --------------------------------------------------------------------------------------------------
# Placeholders -> Faker values -> spaCy tokens and BIO labels
# --------------------------------------------------------------------------------------------------
class Unusable(Exception):
    """A generation that cannot become a training document; ``reason`` is one of DROP_REASONS."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


class Found(NamedTuple):
    name: str  # the canonical placeholder name
    start: int  # character span of the placeholder in the generation, braces included
    end: int


_BRACED = re.compile(r"\{\{([^{}]*)\}\}|\{([^{}]*)\}")


def _canonical(inner: str) -> str:
    return re.sub(r"[\s_\-]+", "_", inner.strip()).upper()


def find_placeholders(text: str) -> list[Found]:
    """The placeholders of a generation in order: ``{EMAIL}``, ``{ email }``, ``{{Email}}`` and
    ``{street address}`` are all accepted. Raises :class:`Unusable` for an empty text, a brace left
    unmatched, an unknown placeholder, or no placeholder at all."""
    if not text.strip():
        raise Unusable("empty", "the generation is empty")
    found, unknown = [], []
    for match in _BRACED.finditer(text):
        name = _canonical(match.group(1) if match.group(1) is not None else match.group(2))
        if name in PLACEHOLDERS:
            found.append(Found(name, match.start(), match.end()))
        else:
            unknown.append(match.group(0))
    rest = _BRACED.sub("", text)
    brace = next((i for i, c in enumerate(rest) if c in "{}"), None)
    if brace is not None:
        context = rest[max(0, brace - 20) : brace + 20]
        raise Unusable("unbalanced_braces", f"unmatched {rest[brace]!r} in {context!r}")
    if unknown:
        raise Unusable("unknown_placeholder", f"unknown placeholder {unknown[0]!r}")
    if not found:
        raise Unusable("no_placeholder", "no placeholder")
    return found


def fill(text: str, value_of: Callable[[str], str]) -> tuple[str, list[Entity]]:
    """The text with every placeholder replaced by ``value_of(name)``, and the span of each value."""
    parts, entities, length, last = [], [], 0, 0
    for found in find_placeholders(text):
        before, value = text[last : found.start], value_of(found.name)
        start = length + len(before)
        entities.append(Entity(found.name, PLACEHOLDERS[found.name].label, value, start, start + len(value)))
        parts += [before, value]
        length, last = start + len(value), found.end
    parts.append(text[last:])
    return "".join(parts), entities


def label_tokens(doc, entities: Sequence[Entity]) -> tuple[list[str], list[Entity]]:
    """BIO labels of a spaCy doc: every token overlapping a PII span gets its label (B- on the first).

    Raises :class:`Unusable` ("invalid") when two entities share a token, or an email or username spreads
    over several tokens (the 13 labels have no I-EMAIL or I-USERNAME).
    """
    starts = np.array([token.idx for token in doc], dtype=np.int64)
    ends = starts + np.array([len(token) for token in doc], dtype=np.int64)
    located, spans = [], []
    for entity in entities:
        hit = np.flatnonzero((starts < entity.end) & (ends > entity.start))
        entity = replace(entity, token_start=int(hit[0]), token_end=int(hit[-1]) + 1)
        located.append(entity)
        if entity.label == "O":
            continue
        if entity.label in SINGLE_TOKEN_TYPES and len(hit) > 1:
            raise Unusable(
                "invalid",
                f"{entity.kind} {entity.value!r} spreads over {len(hit)} tokens (no I-{entity.label})",
            )
        spans.append(entity)
    spans.sort(key=lambda e: e.token_start)
    for a, b in pairwise(spans):
        if b.token_start < a.token_end:
            raise Unusable("invalid", f"{a.kind} and {b.kind} share the token {doc[b.token_start].text!r}")
    labels = spans_to_bio([(e.label, e.token_start, e.token_end) for e in spans], len(doc))
    return labels, located


def to_document(generation: str, document: int, value_of: Callable[[str], str], nlp) -> Document:
    """A labelled document in the competition layout from one generation (stripped of outer whitespace)."""
    text, entities = fill(generation.strip(), value_of)
    doc = nlp.make_doc(text)
    labels, _ = label_tokens(doc, entities)
    return Document(
        document=document,
        full_text=text,
        tokens=[token.text for token in doc],
        trailing_whitespace=[bool(token.whitespace_) for token in doc],
        labels=labels,
        source="augment",
    )


class FakerValues:
    """Values for the placeholders, one fictitious student per essay, drawn with :mod:`pii.synth`'s Faker
    people: within an essay ``{NAME_STUDENT}`` is always the same student and ``{EMAIL}``, ``{PHONE_NUM}``
    etc. are theirs; each ``{NAME_TEAMMATE}`` or ``{CITED_AUTHOR}`` is someone new. Deterministic by seed."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.fakers = [faker_for(locale, k) for k, locale in enumerate(LOCALES)]
        for k, fake in enumerate(self.fakers):
            fake.seed_instance(f"augment-{seed}-{k}")  # not synth's seeds: other people than the sample's

    def essay(self) -> Callable[[str], str]:
        writer = EssayWriter(self.rng, self.fakers, self.fakers[0])
        return lambda name: ENTITY_SLOTS[PLACEHOLDERS[name].slot](writer)[0]


@dataclass
class Outcome:
    """What became of one generation: ``status`` is "kept" or one of DROP_REASONS."""

    status: str
    detail: str = ""
    document: Document | None = None


def augment_generations(
    generations: Sequence[str],
    out: str | Path,
    *,
    essay_values: Callable[[], Callable[[str], str]],
    first_document_id: int = 1_000_000,
    prompts: Sequence[EssayPrompt] | None = None,
) -> dict:
    """Fill, label and validate ``generations``; write ``augment.json`` (kept documents, consecutive ids
    from ``first_document_id``), ``generations.jsonl`` (each generation and its fate) and
    ``augment_stats.json``; return the stats. ``essay_values()`` gives one essay's placeholder values."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    outcomes, next_id = [], first_document_id
    for generation in generations:
        value_of = essay_values()
        try:
            doc = to_document(generation, next_id, value_of, nlp)
        except Unusable as err:
            outcomes.append(Outcome(err.reason, str(err)))
            continue
        outcomes.append(Outcome("kept", document=doc))
        next_id += 1
    path = out / "augment.json"
    write_documents([o.document for o in outcomes if o.document], path, labelled=True)
    # the same validation as any training file, so a document that loads here loads in training
    documents, skipped = load_documents(path, labelled=True, on_error="skip")
    if skipped:
        reasons = {skip.document: skip.reason for skip in skipped}
        for outcome in outcomes:
            if outcome.document and outcome.document.document in reasons:
                outcome.status, outcome.detail = "invalid", reasons[outcome.document.document]
        write_documents(documents, path, labelled=True)
    with (out / "generations.jsonl").open("w", encoding="utf-8") as handle:
        for i, (generation, outcome) in enumerate(zip(generations, outcomes, strict=True)):
            record = {"index": i, "status": outcome.status, "detail": outcome.detail}
            record["document"] = outcome.document.document if outcome.status == "kept" else None
            if prompts is not None:
                record |= {"placeholders_asked": list(prompts[i].placeholders), "prompt": prompts[i].text}
            handle.write(json.dumps(record | {"generation": generation}, ensure_ascii=False) + "\n")
    statuses = Counter(o.status for o in outcomes)
    spans = Counter(span.entity for doc in documents for span in bio_to_spans(doc.labels))
    stats = {
        "requested": len(generations),
        "kept": statuses["kept"],
        "dropped": {reason: statuses[reason] for reason in DROP_REASONS},
        "first_document_id": first_document_id,
        "entities": {entity: spans[entity] for entity in ENTITY_TYPES},
    }
    (out / "augment_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


# --------------------------------------------------------------------------------------------------
# Configuration and the command
# --------------------------------------------------------------------------------------------------
@dataclass
class AugmentConfig:
    """Every field is a recipe key and a command-line flag."""

    model: str = field(
        default="mistralai/Mistral-7B-Instruct-v0.2",
        metadata={"help": f"instruct model: HF id or local path; {TINY!r} builds a tiny random local Qwen2"},
    )
    backend: str = field(default="vllm", metadata={"help": " | ".join(BACKENDS)})
    preset: str = field(
        default="auto",
        metadata={"help": "auto (cpu without CUDA) | cpu (tiny model, few short essays) | full (as given)"},
    )
    n_essays: int = field(default=5_000, metadata={"help": "generations requested (kept + dropped)"})
    max_new_tokens: int = 1_536
    temperature: float = 0.9
    top_p: float = 0.95
    batch_size: int = field(default=8, metadata={"help": "prompts per generate call (transformers backend)"})
    min_words: int = field(default=250, metadata={"help": "essay length the prompts ask for: lower bound"})
    max_words: int = 700
    max_pii: int = field(default=3, metadata={"help": "PII placeholders asked for per essay: 1 to this"})
    negative_rate: float = field(
        default=0.5, metadata={"help": "share of prompts with hard-negative placeholders"}
    )
    first_document_id: int = field(
        default=1_000_000,
        metadata={"help": "id of the first kept essay (the competition's ids stay far below)"},
    )
    seed: int = 42
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM: GPUs per model"})
    gpu_memory_utilization: float = 0.9
    max_model_len: int = field(default=4_096, metadata={"help": "vLLM: prompt + essay tokens"})
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/pii/augment-<timestamp>"})
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        checks = (
            ("backend", self.backend not in BACKENDS, f"is not one of {' | '.join(BACKENDS)}"),
            ("preset", self.preset not in PRESETS, f"is not one of {' | '.join(PRESETS)}"),
            ("n_essays", self.n_essays < 1, "must be >= 1"),
            ("max_new_tokens", self.max_new_tokens < 1, "must be >= 1"),
            ("temperature", not self.temperature > 0, "must be > 0"),
            ("top_p", not 0 < self.top_p <= 1, "must be in (0, 1]"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("min_words", self.min_words < 1, "must be >= 1"),
            ("max_words", self.max_words < self.min_words, "must be >= min_words"),
            (
                "max_pii",
                not 1 <= self.max_pii <= len(PII_PLACEHOLDERS),
                f"must be in 1..{len(PII_PLACEHOLDERS)}",
            ),
            ("negative_rate", not 0 <= self.negative_rate <= 1, "must be in [0, 1]"),
            ("first_document_id", self.first_document_id < 0, "must be >= 0"),
        )
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(AugmentConfig)


def resolve_preset(config: AugmentConfig) -> tuple[AugmentConfig, list[str]]:
    """The config to run and what the preset replaced (``"field: old -> new"``).

    ``cpu`` (``auto`` without CUDA): a hub model becomes the tiny random local model (a local checkpoint
    directory is kept), vLLM becomes transformers, and the essays are capped at CPU_LIMITS.
    """
    preset = config.preset
    if preset == "auto":
        preset = "full" if torch.cuda.is_available() else "cpu"
    changes = {}
    if preset == "cpu":
        if config.model != TINY and not Path(config.model).is_dir():
            changes["model"] = TINY
        if config.backend == "vllm":
            changes["backend"] = "transformers"
        changes |= {k: v for k, v in CPU_LIMITS.items() if getattr(config, k) > v}
    described = [f"{k}: {getattr(config, k)} -> {v}" for k, v in changes.items()]
    if "model" in changes:
        described[0] += " (a random Qwen2 with a tokenizer trained on the prompts, built by shared.tiny)"
    return replace(config, preset=preset, **changes), described


def model_path(model: str) -> str:
    """The model to load: ``tiny`` is built locally (cached), any other name is passed on as it is."""
    if model != TINY:
        return model
    corpus = [p.text for p in build_prompts(32, np.random.default_rng(0))]
    return str(tiny_causal_lm(corpus))


def generate(prompts: Sequence[EssayPrompt], config: AugmentConfig) -> list[str]:
    """The generations of the configured backend, one per prompt."""
    common = dict(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        seed=config.seed,
    )
    if config.backend == "vllm":
        return generate_vllm(
            prompts,
            model_path(config.model),
            tensor_parallel_size=config.tensor_parallel_size,
            gpu_memory_utilization=config.gpu_memory_utilization,
            max_model_len=config.max_model_len,
            **common,
        )
    return generate_transformers(prompts, model_path(config.model), batch_size=config.batch_size, **common)


def run(config: AugmentConfig) -> tuple[Path, dict]:
    """Prompts, generation, filling, labelling and validation; returns the output folder and the stats."""
    requested = config.preset
    config, changes = resolve_preset(config)
    if config.preset == "cpu":
        why = "no CUDA device" if requested == "auto" else "asked for"
        print(
            f"PRESET CPU ({why}): the real generator is replaced. A tiny random model writes noise, so expect"
        )
        print("(nearly) every generation to be dropped; this run checks the pipeline, not the essays.")
        print("\n".join(f"  {change}" for change in changes) or "  (nothing to replace)")
    out = open_run(config.output_dir, "augment", config.verbose)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    prompts = build_prompts(
        config.n_essays,
        np.random.default_rng(config.seed),
        min_words=config.min_words,
        max_words=config.max_words,
        max_pii=config.max_pii,
        negative_rate=config.negative_rate,
    )
    generations = generate(prompts, config)
    stats = augment_generations(
        generations,
        out,
        essay_values=FakerValues(config.seed).essay,
        first_document_id=config.first_document_id,
        prompts=prompts,
    )
    return out, stats


def main(argv: list[str] | None = None) -> None:
    try:
        (config,) = parse_config(make_parser(), argv)
        out, stats = run(config)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    dropped = ", ".join(f"{reason} {n}" for reason, n in stats["dropped"].items() if n) or "none"
    print(
        f"kept {stats['kept']} of {stats['requested']} generations (dropped: {dropped}); entities {stats['entities']}"
    )
    print(
        f"wrote {out / 'augment.json'}: use it as extra_data of a pii-train recipe (absolute path, or copy it"
    )
    print("into the data folder); drop reasons and every generation in augment_stats.json, generations.jsonl")
