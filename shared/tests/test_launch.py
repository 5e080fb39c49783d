"""CPU launches of accelerate configs: the device keys rewritten and nothing else, two real processes, and a
weights digest that tells equal weights from different ones."""

import json
import textwrap

import torch
import yaml

from shared.launch import cpu_config, launch_on_cpu, partitioned, weights_digest

ZERO2 = {"compute_environment": "LOCAL_MACHINE", "distributed_type": "DEEPSPEED", "num_processes": 8,
         "mixed_precision": "bf16", "gpu_ids": "all", "main_process_port": 29500,
         "deepspeed_config": {"zero_stage": 2, "offload_optimizer_device": "none"}}  # fmt: skip


def test_cpu_config_changes_only_the_device_keys(tmp_path):
    source = tmp_path / "gpus" / "zero2.yaml"
    source.parent.mkdir()
    source.write_text(yaml.safe_dump(ZERO2))
    path = cpu_config(source, tmp_path / "cpu", num_processes=3)
    assert path == tmp_path / "cpu" / "zero2.yaml"
    config = yaml.safe_load(path.read_text())
    assert (config["num_processes"], config["use_cpu"], config["mixed_precision"]) == (3, True, "no")
    assert "gpu_ids" not in config and 1024 <= config["main_process_port"] < 65536
    kept = {
        k: v
        for k, v in ZERO2.items()
        if k not in ("num_processes", "mixed_precision", "gpu_ids", "main_process_port")
    }
    assert {k: config[k] for k in kept} == kept
    assert yaml.safe_load(source.read_text()) == ZERO2  # the repo's file is left alone


def test_launch_on_cpu_starts_the_processes_without_a_gpu(tmp_path):
    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump({"distributed_type": "MULTI_GPU", "num_processes": 4, "gpu_ids": "all"}))
    script = tmp_path / "rank.py"
    script.write_text(
        textwrap.dedent("""
        import json, os, sys
        keys = ("RANK", "WORLD_SIZE", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "DS_ACCELERATOR")
        with open(os.path.join(sys.argv[1], f"rank{os.environ['RANK']}.json"), "w") as f:
            json.dump({k: os.environ.get(k) for k in keys}, f)
    """)
    )
    run = launch_on_cpu(config, [str(script), str(tmp_path)], tmp_path / "cpu", timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["RANK"], r["WORLD_SIZE"]) for r in ranks] == [("0", "2"), ("1", "2")]
    assert all((r["CUDA_VISIBLE_DEVICES"], r["OMP_NUM_THREADS"], r["DS_ACCELERATOR"]) == ("", "1", "cpu")
               for r in ranks)  # fmt: skip


def test_weights_digest_tells_equal_weights_from_different_ones():
    torch.manual_seed(0)
    a = torch.nn.Linear(4, 3)
    b = torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    assert weights_digest(a) == weights_digest(b) and not partitioned(a)
    with torch.no_grad():
        b.bias[0] += 1e-6
    assert weights_digest(a) != weights_digest(b)
    renamed = torch.nn.Sequential(a)  # same values under other names
    assert weights_digest(renamed) != weights_digest(a)
