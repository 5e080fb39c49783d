"""Model merging (§13.6.4, §4.4): NemoSkills' linear CoT/TIR merge, TIES/DARE through mergekit, LoRA folding.

NemoSkills' winning AIMO2 model was a weighted average of two fine-tunes of the same base (Qwen2.5-14B):
0.3 x the chain-of-thought checkpoint + 0.7 x the tool-integrated-reasoning one, one model that blends
both behaviours at no inference cost. :func:`linear_merge` does exactly that, streaming one tensor at a
time through ``safetensors.safe_open`` so that memory stays near one model (at most one output shard plus
one tensor of each input), however many checkpoints are averaged.

TIES and DARE (§4.4) merge *task vectors* (fine-tune minus base) with trimming, sign election and
random drop-and-rescale; :func:`mergekit_merge` runs them through mergekit, which works offline on local
checkpoint directories (mergekit's own ``linear`` is accepted too), so peft's LoRA-only
``add_weighted_adapter`` combinations are not needed. :func:`merge_lora` folds a LoRA adapter into its
base with peft's ``merge_and_unload`` so the result serves like any full checkpoint (e.g. on vLLM).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
import yaml
from safetensors import safe_open
from safetensors.torch import save_file
from trl import TrlParser

from aimo2.configs import VERBOSE_HELP, ConfigError
from aimo2.data import DataError
from aimo2.paths import run_dir
from shared.console import log_to_file

__all__ = [
    "MERGEKIT_METHODS",
    "MergeArguments",
    "linear_merge",
    "main",
    "make_parser",
    "merge",
    "merge_lora",
    "mergekit_config",
    "mergekit_merge",
]

MERGEKIT_METHODS = ("linear", "ties", "dare_ties", "dare_linear")
MAX_SHARD_BYTES = 5 * 2**30
# Everything of a checkpoint but its weights: config, generation defaults, tokenizer and chat template.
_TAGALONG = (
    "config.json",
    "generation_config.json",
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.*",
)
_FLOAT_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}


class _Checkpoint:
    """Lazy access to one checkpoint directory's safetensors weights (single file or sharded)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        index, single = self.path / "model.safetensors.index.json", self.path / "model.safetensors"
        if index.is_file():
            weight_map = json.loads(index.read_text())["weight_map"]
            self.files = {key: self.path / name for key, name in weight_map.items()}
        elif single.is_file():
            with safe_open(single, "pt") as f:
                self.files = dict.fromkeys(f.keys(), single)
        else:
            raise DataError(f"{self.path}: no model.safetensors or model.safetensors.index.json")
        self._handles = {}

    def _slice(self, key: str):
        file = self.files[key]
        if file not in self._handles:
            self._handles[file] = safe_open(file, "pt", device="cpu")
        return self._handles[file].get_slice(key)

    def shape(self, key: str) -> list[int]:
        return list(self._slice(key).get_shape())

    def dtype(self, key: str) -> str:
        """safetensors' name of the tensor's dtype, e.g. ``BF16``."""
        return self._slice(key).get_dtype()

    def tensor(self, key: str) -> torch.Tensor:
        return self._slice(key)[:]

    def architectures(self) -> list[str] | None:
        config = self.path / "config.json"
        if not config.is_file():
            raise DataError(f"{self.path}: no config.json")
        return json.loads(config.read_text()).get("architectures")


def _check_compatible(checkpoints: list[_Checkpoint]) -> None:
    """Same architecture, tensor names and shapes as the first checkpoint, floating point only."""
    first = checkpoints[0]
    for key in first.files:
        if first.dtype(key) not in _FLOAT_DTYPES:
            raise DataError(f"{first.path}: tensor {key} is {first.dtype(key)}; only float weights can merge")
    for other in checkpoints[1:]:
        if other.architectures() != first.architectures():
            raise DataError(
                f"{other.path}: architecture {other.architectures()} differs from {first.architectures()} "
                f"of {first.path}"
            )
        for key in sorted(first.files.keys() | other.files.keys()):
            if key not in other.files:
                raise DataError(f"{other.path}: tensor {key} is missing (present in {first.path})")
            if key not in first.files:
                raise DataError(f"{other.path}: tensor {key} is not in {first.path}")
            if other.shape(key) != first.shape(key):
                raise DataError(
                    f"{other.path}: tensor {key} has shape {other.shape(key)}, {first.path} has "
                    f"{first.shape(key)}"
                )
            if other.dtype(key) not in _FLOAT_DTYPES:
                raise DataError(
                    f"{other.path}: tensor {key} is {other.dtype(key)}; only float weights can merge"
                )


def _normalised(weights: list[float], n_models: int) -> list[float]:
    if len(weights) != n_models:
        raise ConfigError(f"weights: {len(weights)} given for {n_models} model(s)")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"weights: {weights} must be non-negative with a positive sum")
    return [w / sum(weights) for w in weights]


def _torch_dtype(name: str | None) -> torch.dtype | None:
    if name is None:
        return None
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ConfigError(f"dtype: {name!r} is not a torch floating-point dtype (e.g. bfloat16)")
    return dtype


class _ShardWriter:
    """Writes tensors into ~``max_bytes`` safetensors shards, named and indexed as transformers expects."""

    def __init__(self, out_dir: Path, max_bytes: int):
        self.out_dir, self.max_bytes = out_dir, max_bytes
        self.pending: dict[str, torch.Tensor] = {}
        self.pending_bytes = 0
        self.shards: list[list[str]] = []
        self.total = 0

    def add(self, key: str, tensor: torch.Tensor) -> None:
        self.pending[key] = tensor.contiguous()
        self.pending_bytes += tensor.numel() * tensor.element_size()
        self.total += tensor.numel() * tensor.element_size()
        if self.pending_bytes >= self.max_bytes:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            save_file(self.pending, self.out_dir / f"shard-{len(self.shards)}.tmp", metadata={"format": "pt"})
            self.shards.append(list(self.pending))
            self.pending, self.pending_bytes = {}, 0

    def close(self) -> None:
        self._flush()
        n = len(self.shards)
        if n == 1:
            (self.out_dir / "shard-0.tmp").replace(self.out_dir / "model.safetensors")
            return
        weight_map = {}
        for i, keys in enumerate(self.shards):
            name = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
            (self.out_dir / f"shard-{i}.tmp").replace(self.out_dir / name)
            weight_map.update(dict.fromkeys(keys, name))
        index = {"metadata": {"total_size": self.total}, "weight_map": weight_map}
        (self.out_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")


def _copy_tagalong(source: Path, out_dir: Path, dtype: str | None) -> None:
    """Config, generation config, tokenizer and chat template of ``source``; config dtype updated."""
    for pattern in _TAGALONG:
        for file in source.glob(pattern):
            if file.is_file():
                shutil.copy2(file, out_dir / file.name)
    if dtype is not None:
        config_file = out_dir / "config.json"
        config = json.loads(config_file.read_text())
        config["dtype"] = dtype
        config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _output_dir(out_dir: str | Path, inputs: list[str | Path]) -> Path:
    out = Path(out_dir)
    if out.resolve() in {Path(p).resolve() for p in inputs}:
        raise ConfigError(f"{out}: the output directory is one of the inputs")
    out.mkdir(parents=True, exist_ok=True)
    return out


def linear_merge(
    paths: list[str | Path],
    weights: list[float],
    out_dir: str | Path,
    *,
    dtype: str | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Path:
    """Write ``sum_i w_i * theta_i`` of same-architecture checkpoints to ``out_dir``; returns ``out_dir``.

    Weights are normalised to sum to 1 (as mergekit's ``linear`` does by default), so NemoSkills'
    ``[0.3, 0.7]`` and ``[3, 7]`` give the same model; negative weights are refused. Sums are taken in
    float32 and stored in ``dtype`` (e.g. ``"bfloat16"``), by default each tensor's dtype in the first
    checkpoint. Config, generation config, tokenizer and chat template come from the first checkpoint.
    """
    if not paths:
        raise ConfigError("linear_merge: no checkpoints given")
    weights = _normalised(list(weights), len(paths))
    out_dtype = _torch_dtype(dtype)
    checkpoints = [_Checkpoint(p) for p in paths]
    _check_compatible(checkpoints)
    out = _output_dir(out_dir, paths)
    writer = _ShardWriter(out, max_shard_bytes)
    for key in checkpoints[0].files:
        merged = torch.zeros(checkpoints[0].shape(key), dtype=torch.float32)
        for checkpoint, weight in zip(checkpoints, weights, strict=True):
            merged.add_(checkpoint.tensor(key).to(torch.float32), alpha=weight)
        writer.add(key, merged.to(out_dtype or _FLOAT_DTYPES[checkpoints[0].dtype(key)]))
    writer.close()
    _copy_tagalong(checkpoints[0].path, out, dtype)
    return out


def mergekit_config(
    method: str,
    models: list[str],
    weights: list[float],
    base: str | None,
    *,
    density: float = 0.5,
    dtype: str | None = None,
) -> dict:
    """mergekit's YAML configuration (as a dict) for ``method`` over ``models`` relative to ``base``.

    ``density`` is the fraction of each task vector kept: the largest-magnitude entries for ``ties``,
    a random subset for ``dare_*``; mergekit's ``linear`` ignores base and density.
    """
    if method not in MERGEKIT_METHODS:
        raise ConfigError(f"method: {method!r} is not one of {MERGEKIT_METHODS}")
    if len(weights) != len(models):
        raise ConfigError(f"weights: {len(weights)} given for {len(models)} model(s)")
    if method == "linear":
        entries = [{"model": m, "parameters": {"weight": w}} for m, w in zip(models, weights, strict=True)]
        config = {"merge_method": method, "models": entries}
    else:
        if base is None:
            raise ConfigError(f"method {method}: needs a base model (the task vectors are model - base)")
        if not 0 < density <= 1:
            raise ConfigError(f"density: {density} is not in (0, 1]")
        entries = [
            {"model": m, "parameters": {"weight": w, "density": density}}
            for m, w in zip(models, weights, strict=True)
        ]
        config = {"merge_method": method, "base_model": base, "models": entries}
    if dtype is not None:
        config["dtype"] = dtype
    return config


def _referenced_paths(config: dict) -> list[str]:
    refs = [entry.get("model") for entry in config.get("models") or []]
    return [str(r) for r in ([config["base_model"]] if config.get("base_model") else []) + refs]


def mergekit_merge(config: dict, out_dir: str | Path, *, seed: int = 0) -> Path:
    """Run mergekit (``linear``, ``ties``, ``dare_ties``, ``dare_linear``) from its config dict; returns ``out_dir``.

    Local checkpoints are checked first for matching tensors (same one-line errors as
    :func:`linear_merge`). ``seed`` fixes DARE's random drop. mergekit's DARE rescales each kept task
    vector to the L1 norm of the full one (a factor close to, not exactly, the paper's 1/density).
    Uses CUDA when it is visible. mergekit is imported here: it is slow to import and only this needs it.
    """
    from mergekit.config import MergeConfiguration
    from mergekit.merge import run_merge
    from mergekit.options import MergeOptions
    from pydantic import ValidationError

    method = config.get("merge_method")
    if method not in MERGEKIT_METHODS:
        raise ConfigError(f"merge_method: {method!r} is not one of {MERGEKIT_METHODS}")
    refs = _referenced_paths(config)
    local = [Path(p) for p in refs if Path(p).is_dir()]
    if len(local) >= 2:
        _check_compatible([_Checkpoint(p) for p in local])
    try:
        merge_config = MergeConfiguration.model_validate(config)
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"mergekit config: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    out = _output_dir(out_dir, refs)
    options = MergeOptions(cuda=torch.cuda.is_available(), random_seed=seed, copy_tokenizer=True, quiet=True)
    run_merge(merge_config, str(out), options)
    return out


def merge_lora(
    base: str | Path, adapter: str | Path, out_dir: str | Path, *, dtype: str | None = None
) -> Path:
    """Fold a LoRA ``adapter`` into ``base`` (peft ``merge_and_unload``) and save a full checkpoint.

    The tokenizer (and chat template) is the adapter's when it was saved with one, else the base's.
    peft and the transformers model classes are imported here: they are slow to import (bitsandbytes,
    every model family) and the other merges read safetensors files directly.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise DataError(f"{adapter}: no adapter_config.json (not a PEFT adapter directory)")
    out = _output_dir(out_dir, [base, adapter])
    model = AutoModelForCausalLM.from_pretrained(base, dtype=_torch_dtype(dtype) or "auto")
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    merged.save_pretrained(out)
    tokenizer_source = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else base
    AutoTokenizer.from_pretrained(tokenizer_source).save_pretrained(out)
    return out


@dataclass
class MergeArguments:
    method: Literal["linear", "ties", "dare_ties", "dare_linear", "lora"] = field(
        default="linear",
        metadata={"help": "linear: streaming weighted average; ties/dare_*: mergekit; lora: fold an adapter"},
    )
    models: list[str] = field(
        default_factory=list, metadata={"help": "checkpoint directories to merge; for lora, the adapter"}
    )
    weights: list[float] = field(
        default_factory=list, metadata={"help": "one per model (default equal); linear normalises them"}
    )
    base: str | None = field(default=None, metadata={"help": "base model for ties/dare_*/lora"})
    density: float = field(default=0.5, metadata={"help": "fraction of each task vector kept (ties/dare)"})
    dtype: str | None = field(
        default=None, metadata={"help": "output dtype, e.g. bfloat16; default: input's"}
    )
    seed: int = field(default=0, metadata={"help": "seed of DARE's random drop"})
    output_dir: str | None = field(
        default=None,
        metadata={"help": "default outputs/aimo2/merge-<method>-<timestamp>", "aliases": ["--out"]},
    )
    verbose: bool = field(default=False, metadata={"help": VERBOSE_HELP})


def make_parser() -> TrlParser:
    """``HfArgumentParser`` (trl's, which reads ``--config recipe.yaml``) of :class:`MergeArguments`."""
    return TrlParser((MergeArguments,))


def merge(args: MergeArguments) -> Path:
    """Run the merge ``args`` describe; returns the output checkpoint directory."""
    if not args.models:
        raise ConfigError("models: no checkpoint given")
    weights = args.weights or [1 / len(args.models)] * len(args.models)
    out = run_dir(args.output_dir, f"merge-{args.method}")
    if args.method == "lora":
        if args.base is None or len(args.models) != 1:
            raise ConfigError("method lora: needs --base and exactly one adapter in --models")
        return merge_lora(args.base, args.models[0], out, dtype=args.dtype)
    if args.method == "linear":
        if args.base is not None:
            raise ConfigError("method linear: takes no --base (it averages the models themselves)")
        return linear_merge(args.models, weights, out, dtype=args.dtype)
    config = mergekit_config(
        args.method, args.models, weights, args.base, density=args.density, dtype=args.dtype
    )
    return mergekit_merge(config, out, seed=args.seed)


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = make_parser().parse_args_and_config(argv)
    except (OSError, ValueError) as err:  # missing recipe, unknown recipe keys
        sys.exit(f"error: {err}")
    try:
        args.output_dir = str(run_dir(args.output_dir, f"merge-{args.method}"))
        log_to_file(Path(args.output_dir) / "run.log", verbose=args.verbose)
        out = merge(args)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    (out / "merge_args.yaml").write_text(yaml.safe_dump(asdict(args), sort_keys=False))
    print(f"{args.method} merge of {len(args.models)} model(s): wrote {out}")
