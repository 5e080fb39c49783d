"""The wheel-folder builder's choices: the lock's pins for the target's markers, minus what the image provides."""

from pathlib import Path

import pytest

from shared import wheels as W

EXPORT = """\
accelerate==1.15.0
colorama==0.4.6 ; sys_platform == 'win32'
contourpy==1.3.3 ; python_full_version < '3.12'
contourpy==1.4.0 ; python_full_version >= '3.12'
Torch==2.14.0
"""


def test_parse_export_reads_pins_and_markers():
    pins = W.parse_export(EXPORT)
    assert [p.spec for p in pins] == ["accelerate==1.15.0", "colorama==0.4.6", "contourpy==1.3.3", "contourpy==1.4.0",
                                      "torch==2.14.0"]  # fmt: skip
    assert pins[1].marker == 'sys_platform == "win32"' and pins[0].marker is None
    with pytest.raises(ValueError, match=r"^uv export: line 2: expected 'name==version', got 'numpy>=2'$"):
        W.parse_export("a==1\nnumpy>=2\n")


def test_select_keeps_the_targets_pins_and_leaves_the_images_to_it():
    pins = W.parse_export(EXPORT)
    wanted, provided, differ = W.select(
        pins, W.target_environment("3.11"), {"torch": "2.6.0", "accelerate": None}
    )
    assert [p.spec for p in wanted] == ["contourpy==1.3.3"]  # no colorama on Linux; 1.4.0 is for 3.12+
    assert [p.spec for p in provided] == ["accelerate==1.15.0", "torch==2.14.0"]
    assert differ == [("torch", "2.6.0", "2.14.0")]  # a version the image has but the lock does not
    wanted, _, _ = W.select(pins, W.target_environment("3.12.4"), {})
    assert [p.spec for p in wanted] == ["accelerate==1.15.0", "contourpy==1.4.0", "torch==2.14.0"]


def test_read_provided_takes_a_pip_freeze(tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("# kaggle image\nTorch==2.6.0+cu124\nscikit_learn==1.5.2\n"
                      "fsspec @ file:///tmp/fsspec-2024.whl\n-e git+https://x/y#egg=z\n")  # fmt: skip
    provided = W.read_provided(freeze, ["Extra.Pkg"])
    assert provided == {"extra-pkg": None, "torch": "2.6.0+cu124", "scikit-learn": "1.5.2", "fsspec": None}
    freeze.write_text("torch==2.6\n!!!\n")
    with pytest.raises(
        ValueError, match=r"freeze\.txt: line 2: expected 'name==version' or a name, got '!!!'$"
    ):
        W.read_provided(freeze, [])
    with pytest.raises(FileNotFoundError, match=r"nope\.txt: file not found \(--provided\)$"):
        W.read_provided(tmp_path / "nope.txt", [])


def test_platforms_cover_every_older_manylinux():
    tags = W.platforms(35)
    assert (
        tags[0] == "manylinux_2_35_x86_64"
        and "manylinux_2_17_x86_64" in tags
        and "manylinux2014_x86_64" in tags
    )
    assert "manylinux_2_36_x86_64" not in tags and "manylinux_2_16_x86_64" not in tags


def test_a_folder_that_already_holds_wheels_is_refused(tmp_path):
    (tmp_path / "old-1.0-py3-none-any.whl").write_bytes(b"")
    with pytest.raises(FileExistsError, match="already holds wheels"):
        W.build_wheels("jigsaw", tmp_path, provided={}, root=Path(__file__).parents[2])
