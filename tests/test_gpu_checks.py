"""The GPU checks (``uv run pytest -m gpu``) on a machine without CUDA: every one is skipped with a reason that
says what is missing, none runs or fails, and every chapter has its own."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHAPTERS = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())


@pytest.mark.slow
def test_every_gpu_check_is_skipped_with_a_reason_without_cuda(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KLS_GPU_CHECKS_DEVICE"} | {"CUDA_VISIBLE_DEVICES": ""}
    report = tmp_path / "gpu.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "gpu", "-p", "no:cacheprovider", "-n", "0", "-q", f"--junitxml={report}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {}
    for case in cases:
        skipped = case.find("skipped")
        outcomes[f"{case.get('classname')}.{case.get('name')}"] = (
            None if skipped is None else skipped.get("message")
        )
    assert outcomes, "no gpu-marked test was collected"
    ran = [name for name, reason in outcomes.items() if reason is None]
    assert not ran, f"ran without CUDA: {ran}"
    assert all("needs a CUDA device" in reason for reason in outcomes.values())
    for chapter in CHAPTERS:
        module = chapter.replace("-", "_")
        mine = [
            name for name in outcomes if f"packages.{chapter}.tests." in name or f"{module}.tests." in name
        ]
        assert len(mine) >= 2, f"{chapter} has {len(mine)} GPU checks"
