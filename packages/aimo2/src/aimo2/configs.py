"""Recipes of the aimo2 trainers: trl's config classes, the script arguments, and the CPU preset.

As in open-r1, a recipe is YAML parsed by ``trl.TrlParser`` into (script arguments, trainer config,
``trl.ModelConfig``), and every field is also a flag. Recipes carry the full-scale values of the write-ups
(a 7B-14B model, bf16, vLLM); ``preset: auto`` (the default) keeps them when a CUDA device is visible
and otherwise swaps, loudly, the fields a laptop cannot honour for the CPU preset's (a tiny model
trained on the data's own text, a few steps), so the same command runs anywhere. Flags on the command
line still win over both.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import trl
import yaml
from accelerate.utils import broadcast_object_list
from transformers.utils import is_torch_bf16_gpu_available

from aimo2.paths import run_dir
from aimo2.rewards import REWARDS, CosineSchedule
from shared.console import is_verbose
from shared.recipes import ConfigError

__all__ = [
    "DASHES",
    "PRESETS",
    "ConfigError",
    "GRPOConfig",
    "GRPOScriptArguments",
    "ParsedRun",
    "SFTConfig",
    "SFTScriptArguments",
    "check_device",
    "model_init_kwargs",
    "parse_run",
    "resolve_preset",
    "shared_run_dir",
    "write_config",
]

PRESETS = ("auto", "cpu", "full")
SELECTIONS = ("shortest_correct", "all_correct", "all")
# What every command's --help says about spelling, and the help of its ``--verbose`` (which
# ``shared.console.is_verbose`` reads from the command line before parsing).
DASHES = "Every flag takes dashes or underscores: --data-dir or --data_dir, --output-dir or --output_dir."
VERBOSE_HELP = "show the libraries' own output (log lines, per-step metrics) instead of writing it to run.log"


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {list(choices)}")


@dataclass
class GRPOScriptArguments:
    """What ``train-grpo`` trains on and how it rewards; trainer settings live in :class:`GRPOConfig`
    (including ``reward_weights``, one per name of ``reward_funcs``)."""

    dataset: str | None = field(
        default=None,
        metadata={
            "help": "GRPO prompts (jsonl of id, problem, answer, prompt); default <data dir>/train/grpo.jsonl"
        },
    )
    data_dir: str | None = field(
        default=None,
        metadata={"help": "default competitions/aimo2/data if it holds the Kaggle files, else the sample"},
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format", "cosine"],
        metadata={"help": f"names from aimo2.rewards.REWARDS: {sorted(REWARDS)}"},
    )
    cosine_min_value_correct: float = field(
        default=0.1, metadata={"help": "cosine reward of a correct answer at max_len"}
    )
    cosine_max_value_correct: float = field(
        default=1.0, metadata={"help": "cosine reward of a correct answer at length 0"}
    )
    cosine_min_value_wrong: float = field(
        default=-1.0, metadata={"help": "cosine reward of a wrong answer at length 0"}
    )
    cosine_max_value_wrong: float = field(
        default=-0.1, metadata={"help": "cosine reward of a wrong answer at max_len"}
    )
    cosine_max_len: int = field(
        default=30000, metadata={"help": "length where the cosine schedule bottoms out"}
    )
    length_unit: str = field(
        default="chars",
        metadata={"help": "lengths for the cosine and length rewards", "choices": ["chars", "tokens"]},
    )
    preset: str = field(
        default="auto",
        metadata={"help": "auto: full with CUDA, else cpu (tiny model, few steps)", "choices": PRESETS},
    )
    verbose: bool = field(default=False, metadata={"help": VERBOSE_HELP})

    def __post_init__(self) -> None:
        _check_choice("preset", self.preset, PRESETS)
        _check_choice("length_unit", self.length_unit, ("chars", "tokens"))
        unknown = [name for name in self.reward_funcs if name not in REWARDS]
        if unknown:
            raise ConfigError(f"reward_funcs: unknown reward function(s) {unknown}; known: {sorted(REWARDS)}")
        try:
            self.schedule()
        except ValueError as err:
            raise ConfigError(f"cosine_*: {err}") from None

    def schedule(self) -> CosineSchedule:
        """The cosine reward's schedule described by the ``cosine_*`` fields."""
        return CosineSchedule(
            min_value_correct=self.cosine_min_value_correct,
            max_value_correct=self.cosine_max_value_correct,
            min_value_wrong=self.cosine_min_value_wrong,
            max_value_wrong=self.cosine_max_value_wrong,
            max_len=self.cosine_max_len,
        )


@dataclass
class SFTScriptArguments:
    """Which reasoning traces ``aimo2-sft`` trains on, how they are selected, and how files are mixed."""

    traces: list[str] = field(
        default_factory=lambda: ["train/cot.jsonl"],
        metadata={"help": "trace files (jsonl: id, problem, answer, messages), relative to the data dir"},
    )
    trace_weights: list[float] | None = field(
        default=None,
        metadata={
            "help": "mixing rule, one weight per trace file: after selection, file i contributes "
            "round(w_i * n_i) traces (w < 1 subsamples, w > 1 repeats); default 1 each: plain concatenation"
        },
    )
    selection: str = field(
        default="shortest_correct",
        metadata={
            "help": "per problem and file: the shortest correct trace, all correct ones, or all",
            "choices": SELECTIONS,
        },
    )
    data_dir: str | None = field(
        default=None,
        metadata={"help": "default competitions/aimo2/data if it holds the Kaggle files, else the sample"},
    )
    preset: str = field(
        default="auto",
        metadata={"help": "auto: full with CUDA, else cpu (tiny model, few steps)", "choices": PRESETS},
    )
    verbose: bool = field(default=False, metadata={"help": VERBOSE_HELP})

    def __post_init__(self) -> None:
        _check_choice("preset", self.preset, PRESETS)
        _check_choice("selection", self.selection, SELECTIONS)
        if not self.traces:
            raise ConfigError("traces: name at least one trace file")
        if self.trace_weights is not None:
            if len(self.trace_weights) != len(self.traces):
                raise ConfigError(
                    f"trace_weights: {len(self.trace_weights)} weights for {len(self.traces)} trace files"
                )
            if any(not w >= 0 for w in self.trace_weights):
                raise ConfigError(f"trace_weights: weights must be >= 0, got {self.trace_weights}")


class _ParsesWithoutBf16Device:
    """trl's configs turn bf16 on by default and refuse it on a machine without a bf16 GPU, so a full-scale
    recipe could not even be parsed on a laptop, neither to apply the CPU preset nor by the workspace test
    that parses every recipe. This keeps the recipe's ``bf16`` and leaves that one check to
    :func:`check_device`, which runs on the final config before training."""

    def __post_init__(self) -> None:
        bf16 = not self.fp16 if self.bf16 is None else self.bf16
        if bf16 and not self.use_cpu and not is_torch_bf16_gpu_available():
            self.bf16 = False
            super().__post_init__()
            self.bf16, self.mixed_precision = True, "bf16"
        else:
            super().__post_init__()


class GRPOConfig(_ParsesWithoutBf16Device, trl.GRPOConfig):
    """``trl.GRPOConfig`` that parses on any machine (see :class:`_ParsesWithoutBf16Device`)."""


class SFTConfig(_ParsesWithoutBf16Device, trl.SFTConfig):
    """``trl.SFTConfig`` that parses on any machine (see :class:`_ParsesWithoutBf16Device`)."""


def resolve_preset(preset: str) -> str:
    """``cpu`` or ``full``; ``auto`` is ``full`` exactly when a CUDA device is visible."""
    _check_choice("preset", preset, PRESETS)
    if preset == "auto":
        return "full" if torch.cuda.is_available() else "cpu"
    return preset


def check_device(training: trl.GRPOConfig | trl.SFTConfig, preset: str) -> None:
    """Refuse a full-scale run that this machine cannot do, naming the way out."""
    if preset == "full" and not torch.cuda.is_available():
        raise ConfigError(
            "preset: 'full' needs a CUDA device and none is visible; use --preset cpu (or auto)"
        )
    if training.bf16 and not training.use_cpu and not is_torch_bf16_gpu_available():
        raise ConfigError("bf16: this GPU has no bfloat16 support; pass --bf16 false")


FLASH = ("flash_attention_2", "flash_attention_3")


def check_attention(model: trl.ModelConfig, training: Any, source: str) -> None:
    """Refuse an attention kernel the lock does not install, and packing without one that keeps the packed
    sequences apart: TRL's padding-free packing (the ``bfd`` strategy) relies on FlashAttention's varlen kernel,
    and under ``sdpa``/``eager`` each sequence would attend to its neighbours in the pack."""
    kernel = model.attn_implementation
    if kernel in FLASH and importlib.util.find_spec("flash_attn") is None:
        raise ConfigError(
            f"{source}: attn_implementation: {kernel!r} needs flash-attn, which uv.lock does not install; use "
            "sdpa, or on a CUDA box `uv pip install flash-attn --no-build-isolation` first (README, Attention)"
        )
    if getattr(training, "packing", False) and kernel not in FLASH:
        raise ConfigError(
            f"{source}: packing: true needs attn_implementation: flash_attention_2 (padding-free packing would let "
            f"packed sequences attend to each other under {kernel or 'the default kernel'!r}); set packing: false"
        )


@dataclass
class ParsedRun:
    """The parsed dataclasses, the preset used and the fields it replaced (name -> new value)."""

    script: Any
    training: Any
    model: trl.ModelConfig
    preset: str
    overrides: dict[str, Any]
    recipe: str | None
    output_dir: str | None


def model_init_kwargs(model: trl.ModelConfig, training: trl.GRPOConfig | trl.SFTConfig) -> dict[str, Any]:
    """``from_pretrained`` arguments from the ModelConfig; the recipe's own ``model_init_kwargs`` win."""
    kwargs = {
        "revision": model.model_revision,
        "trust_remote_code": training.trust_remote_code,
        "attn_implementation": model.attn_implementation,
        "dtype": model.dtype,
    }
    return kwargs | (training.model_init_kwargs or {})


def _pop_recipe(argv: list[str]) -> tuple[Path | None, dict[str, Any], list[str]]:
    """(recipe path, its values, the remaining flags) from ``--config PATH`` in ``argv``."""
    if "--config" not in argv:
        return None, {}, argv
    i = argv.index("--config")
    if i + 1 >= len(argv):
        raise ConfigError("--config needs a path")
    path = Path(argv[i + 1])
    if not path.is_file():
        raise ConfigError(f"{path}: recipe not found")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a recipe must be a YAML mapping of field: value")
    return path, values, argv[:i] + argv[i + 2 :]


def _parse(parser: trl.TrlParser, values: dict[str, Any], argv: list[str], source: str) -> tuple:
    unknown = parser.set_defaults_with_config(**values)
    if unknown:
        raise ConfigError(
            f"{source}: unknown field(s) {sorted(flag.removeprefix('--') for flag in unknown[::2])}"
        )
    return tuple(parser.parse_args_into_dataclasses(args=argv))


def _field_value(dataclass_objects: Sequence[Any], name: str) -> Any:
    return next(getattr(obj, name) for obj in dataclass_objects if name in obj.__dataclass_fields__)


def parse_run(
    make_parser: Callable[[], trl.TrlParser],
    argv: Sequence[str] | None,
    cpu_overrides: Callable[[Any], dict[str, Any]],
    *,
    announce: bool = True,
) -> ParsedRun:
    """Parse ``--config recipe.yaml`` and flags, then apply the preset.

    Precedence, lowest first: dataclass defaults, the recipe, the CPU preset's ``cpu_overrides(script
    arguments)`` (only when the preset resolves to ``cpu``), command-line flags. ``announce`` says on stderr
    that the CPU preset replaced recipe fields (``aimo2-reproduce``, which says it once, turns it off).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    path, recipe, argv = _pop_recipe(argv)
    source = str(path) if path else "command line"
    parsed = _parse(make_parser(), recipe, argv, source)
    preset = resolve_preset(parsed[0].preset)
    overrides: dict[str, Any] = {}
    if preset == "cpu":
        overrides = cpu_overrides(parsed[0])
        before = {name: _plain(_field_value(parsed, name)) for name in overrides}
        if announce:
            _announce(parsed[0].preset, {n: (before[n], v) for n, v in overrides.items() if before[n] != v})
        parsed = _parse(make_parser(), {**recipe, **overrides}, argv, source)
    check_attention(parsed[2], parsed[1], source)
    given_output = "output_dir" in recipe or any(
        a == "--output_dir" or a.startswith("--output_dir=") for a in argv
    )
    return ParsedRun(
        *parsed,
        preset=preset,
        overrides=overrides,
        recipe=path.stem if path else None,
        output_dir=parsed[1].output_dir if given_output else None,
    )


def _plain(value: Any) -> Any:
    """An enum (e.g. ``SaveStrategy.STEPS``) as its value, anything else as is."""
    return getattr(value, "value", value)


def _announce(requested: str, changes: dict[str, tuple[Any, Any]]) -> None:
    """One line on stderr; with ``--verbose`` also every replaced field (config.json's ``overrides`` has them)."""
    reason = "no CUDA device is visible, so preset 'auto' falls back to" if requested == "auto" else "preset"
    lines = [
        f"aimo2: {reason} 'cpu': a tiny model on the same data for a few steps (the pipeline, not results); "
        f"{len(changes)} recipe fields replaced (config.json's overrides; --verbose lists them)"
    ]
    if is_verbose():
        lines += [f"aimo2:   {name}: {before!r} -> {after!r}" for name, (before, after) in changes.items()]
    print("\n".join(lines), file=sys.stderr, flush=True)


def shared_run_dir(training: trl.GRPOConfig | trl.SFTConfig, output_dir: str | None, prefix: str) -> Path:
    """The run folder (``outputs/aimo2/<prefix>-<timestamp>`` unless given), the same on every process."""
    paths = [str(run_dir(output_dir, prefix))]
    if training.world_size > 1:
        broadcast_object_list(paths, from_process=0)
    return Path(paths[0])


def write_config(run: ParsedRun, path: Path) -> None:
    """The resolved configuration of a run as JSON: preset, replaced fields and every dataclass field."""
    config = {
        "recipe": run.recipe,
        "preset": run.preset,
        "overrides": run.overrides,
        "script": dataclasses.asdict(run.script),
        "model": dataclasses.asdict(run.model),
        "training": run.training.to_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2, default=str) + "\n")
