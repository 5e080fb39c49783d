"""A chapter's multi-GPU ``accelerate`` config, launched on CPU processes (or, for the GPU checks, on one GPU).

The same launcher and the same DDP or DeepSpeed code path as on the GPUs, with the gloo backend (DeepSpeed
with ``DS_ACCELERATOR=cpu``): a laptop or CI can check that a config really distributes the work, e.g. that
both ranks end with the same weights. Only the device settings of the config are changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
import yaml

# One thread per process: two processes on two cores, no oversubscription; no GPU even where there is one.
CPU_ENV = {"DS_ACCELERATOR": "cpu", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip


def free_port() -> int:
    """A TCP port nothing listens on now, for the processes' rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_config(config_file: str | Path, out_dir: str | Path, num_processes: int = 2) -> Path:
    """``config_file`` rewritten for ``num_processes`` CPU processes in full precision on a free port, written
    into ``out_dir`` under the same name; every other key (DeepSpeed stage, offload, ...) as it was."""
    return _rewritten(config_file, out_dir, num_processes=num_processes, use_cpu=True, mixed_precision="no")


def gpu_config(config_file: str | Path, out_dir: str | Path, num_processes: int = 1) -> Path:
    """``config_file`` rewritten for ``num_processes`` CUDA processes in bf16 on a free port (the GPU checks
    run a multi-GPU config on the one GPU they have); every other key as it was."""
    return _rewritten(config_file, out_dir, num_processes=num_processes, use_cpu=False, mixed_precision="bf16",
                      gpu_ids=",".join(map(str, range(num_processes))))  # fmt: skip


def _rewritten(config_file: str | Path, out_dir: str | Path, **settings) -> Path:
    config = yaml.safe_load(Path(config_file).read_text())
    config.pop("gpu_ids", None)
    config |= settings | {"main_process_port": free_port()}
    path = Path(out_dir) / Path(config_file).name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


def launch_on_cpu(
    config_file: str | Path,
    script: list[str],
    out_dir: str | Path,
    num_processes: int = 2,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """``accelerate launch --config_file <cpu variant> *script`` (a script path and its arguments, or
    ``-m module ...``); returns the finished process with its output captured."""
    return _launch(cpu_config(config_file, out_dir, num_processes), script, os.environ | CPU_ENV, timeout)


def launch_on_device(
    config_file: str | Path,
    script: list[str],
    out_dir: str | Path,
    device: str | torch.device,
    num_processes: int = 1,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """:func:`launch_on_cpu`, or on CUDA in bf16 when ``device`` is a CUDA device (the GPU checks; their dry
    run on CPU takes the CPU path)."""
    if torch.device(device).type != "cuda":
        return launch_on_cpu(config_file, script, out_dir, num_processes, timeout)
    env = os.environ | {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("DS_ACCELERATOR", None)
    return _launch(gpu_config(config_file, out_dir, num_processes), script, env, timeout)


def _launch(config: Path, script: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config), *script]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def rank_reports(config_file: str | Path, script: list[str], out_dir: str | Path, num_processes: int = 2,
                 timeout: float = 900, device: str | torch.device = "cpu") -> list[dict]:  # fmt: skip
    """Launch ``script`` (:func:`launch_on_device`, CPU by default) and read the ``rank<r>.json`` each rank
    wrote with :func:`write_rank_report`; a failed launch raises with the end of its stderr."""
    run = launch_on_device(config_file, script, out_dir, device, num_processes, timeout)
    if run.returncode != 0:
        raise AssertionError(f"accelerate launch exited {run.returncode}:\n{run.stderr[-3000:]}")
    return [json.loads((Path(out_dir) / f"rank{r}.json").read_text()) for r in range(num_processes)]


def write_rank_report(out_dir: str | Path, initial: str, model: torch.nn.Module) -> None:
    """In a launched worker: this rank's world, whether DeepSpeed really ran (and its ZeRO stage), the digest
    of the weights training started from (``initial``) and of the trained ``model``."""
    import deepspeed.comm

    engaged = deepspeed.comm.is_initialized()  # only when the Trainer really built a DeepSpeed engine
    rank = int(os.environ.get("RANK", "0"))
    report = {
        "rank": rank,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "distributed": torch.distributed.is_initialized(),
        "zero_stage": int(os.environ["ACCELERATE_DEEPSPEED_ZERO_STAGE"]) if engaged else None,
        "initial": initial,
        "digest": weights_digest(model),
    }
    (Path(out_dir) / f"rank{rank}.json").write_text(json.dumps(report))


def partitioned(model: torch.nn.Module) -> bool:
    """Whether DeepSpeed ZeRO-3 has split the model's parameters across the ranks."""
    return any(hasattr(p, "ds_id") for p in model.parameters())


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 over the parameters (names and float32 values), each gathered first from its ZeRO-3
    partitions: equal on two ranks only if their weights are."""
    params = dict(model.named_parameters())
    if partitioned(model):
        import deepspeed

        gathered = deepspeed.zero.GatheredParameters(list(params.values()))
    else:
        gathered = contextlib.nullcontext()
    h = hashlib.sha256()
    with gathered:
        for name, param in sorted(params.items()):
            h.update(name.encode())
            h.update(param.detach().to(torch.float32).contiguous().cpu().numpy().tobytes())
    return h.hexdigest()
