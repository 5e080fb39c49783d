"""``kls-wheels --package CHAPTER --out DIR``: the wheels a Kaggle notebook without internet installs a chapter from.

Kaggle's code competitions run the submission notebook offline, so a chapter and everything it needs must come from
an uploaded dataset: ``pip install --no-index --find-links /kaggle/input/<dataset> <chapter>``. This command writes
that folder from ``uv.lock``, so the notebook runs the versions the chapter was tested with:

- the chapter's and ``shared``'s own wheels (``uv build``);
- every locked third-party dependency of the chapter whose environment markers hold on the target (Linux x86-64,
  ``--python-version``, ``--glibc``), as a wheel for that target (``pip download --only-binary``), or built here when PyPI has
  only its source (DeepSpeed: a pure-Python wheel);
- minus what the Kaggle image already has, when you say so: ``--provided FILE`` (``pip freeze`` run in a Kaggle
  notebook; ``name==version`` lines, or bare names) and ``--provided-package NAME``. Their wheels are left out (torch
  and the CUDA libraries are gigabytes); where the image's version differs from the lock's, the summary says so,
  since ``pip`` then resolves against the image's.

``requirements.txt`` in the folder lists what was downloaded. ``pip`` must be importable here (the workspace's dev
group has it) and ``uv`` on the path.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

GLIBC = 35  # Kaggle's image: Ubuntu 22.04 (glibc 2.35) on x86-64
PYTHON = "3.11"
MEMBERS = ("shared",)  # workspace members every chapter depends on


@dataclass(frozen=True)
class Pin:
    """One locked requirement: ``name==version`` and the markers under which it applies."""

    name: str
    version: str
    marker: str | None

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


def parse_export(text: str) -> list[Pin]:
    """The pins of ``uv export --format requirements.txt`` output (``name==version [; markers]`` lines)."""
    pins = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        versions = [s.version for s in requirement.specifier if s.operator == "=="]
        if len(versions) != 1:
            raise ValueError(f"uv export: line {number}: expected 'name==version', got {line!r}")
        pins.append(
            Pin(canonicalize_name(requirement.name), versions[0], str(requirement.marker or "") or None)
        )
    return pins


def target_environment(python_version: str) -> dict[str, str]:
    """The marker variables of a CPython ``python_version`` on Linux x86-64 (a Kaggle notebook)."""
    full = python_version if python_version.count(".") == 2 else f"{python_version}.0"
    return {"python_version": ".".join(full.split(".")[:2]), "python_full_version": full, "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}  # fmt: skip


def read_provided(path: Path | None, names: list[str]) -> dict[str, str | None]:
    """What the image provides: canonical name -> version (None when unknown), from a ``pip freeze`` file and names."""
    provided: dict[str, str | None] = {canonicalize_name(n): None for n in names}
    if path is None:
        return provided
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found (--provided)")
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(?:==|===)\s*([^\s;]+)|@\s*\S+)?", line)
        if not match:
            raise ValueError(f"{path}: line {number}: expected 'name==version' or a name, got {raw!r}")
        provided[canonicalize_name(match.group(1))] = match.group(2)
    return provided


def select(pins: list[Pin], environment: dict[str, str], provided: dict[str, str | None]):
    """``(pins to download, pins the image provides, [(name, image version, lock version)] that differ)``: the pins
    whose markers hold on the target, split by what the image has."""
    wanted, skipped, differ = [], [], []
    for pin in pins:
        if pin.marker and not Marker(pin.marker).evaluate(environment):
            continue
        if pin.name in provided:
            skipped.append(pin)
            if provided[pin.name] not in (None, pin.version):
                differ.append((pin.name, provided[pin.name], pin.version))
        else:
            wanted.append(pin)
    return wanted, skipped, differ


def workspace_root(start: Path) -> Path:
    """The folder of the ``uv.lock`` above ``start``."""
    for folder in [start, *start.parents]:
        if (folder / "uv.lock").is_file():
            return folder
    raise FileNotFoundError(f"{start}: no uv.lock here or above (run kls-wheels inside the workspace)")


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise RuntimeError(
            f"{' '.join(command[:4])} ...: failed: {detail[-1] if detail else done.returncode}"
        )
    return done.stdout


def platforms(glibc: int) -> list[str]:
    """The wheel platform tags a Linux x86-64 with glibc 2.``glibc`` runs, newest first: ``pip download --platform``
    takes them literally, so a wheel tagged ``manylinux_2_17`` needs its tag in the list."""
    tags = [f"manylinux_2_{minor}_x86_64" for minor in range(glibc, 16, -1)]
    return [*tags, "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]


def download(pins: list[Pin], out: Path, python_version: str, glibc: int, root: Path) -> list[Pin]:
    """Each pin's wheel for the target into ``out``; the pins PyPI has only as source are built into wheels here.
    Returns those built."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    target = ["--only-binary=:all:", "--python-version", python_version]
    target += [flag for tag in platforms(glibc) for flag in ("--platform", tag)]
    built = []
    for pin in pins:
        try:
            _run([*pip, "download", "--no-deps", *target, "--dest", str(out), pin.spec], root)
        except RuntimeError:
            with tempfile.TemporaryDirectory() as scratch:
                _run([*pip, "download", "--no-deps", "--no-binary=:all:", "--dest", scratch, pin.spec], root)
                (sdist,) = Path(scratch).iterdir()
                _run(["uv", "build", "--wheel", "--out-dir", scratch, str(sdist)], root)
                (wheel,) = Path(scratch).glob("*.whl")
                if not wheel.name.endswith("-py3-none-any.whl"):  # built for this machine, not the notebook's
                    raise RuntimeError(f"{pin.spec}: no wheel for Python {python_version} on manylinux x86-64, and its "
                                       f"source builds a platform wheel here ({wheel.name}); provide it in the image "
                                       "(--provided-package) or build it on a matching machine") from None  # fmt: skip
                shutil.move(wheel, out / wheel.name)
            built.append(pin)
    return built


def build_wheels(package: str, out: Path, *, provided: dict[str, str | None], python_version: str = PYTHON,
                 glibc: int = GLIBC, extras: tuple[str, ...] = (), root: Path | None = None) -> dict:  # fmt: skip
    """Write the wheel folder of ``package`` (module docstring) and return what it holds."""
    root = workspace_root(root or Path.cwd())
    if out.is_dir() and any(out.glob("*.whl")):  # an older lock's wheels would be found by --find-links too
        raise FileExistsError(f"{out}: already holds wheels; give an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    export = ["uv", "export", "--package", package, "--frozen", "--no-dev", "--no-emit-workspace", "--no-hashes",
              "--no-header", "--no-annotate", *(f"--extra={e}" for e in extras)]  # fmt: skip
    pins = parse_export(_run(export, root))
    wanted, skipped, differ = select(pins, target_environment(python_version), provided)
    for member in (package, *MEMBERS):
        _run(["uv", "build", "--package", member, "--wheel", "--out-dir", str(out)], root)
    built = download(wanted, out, python_version, glibc, root)
    (out / "requirements.txt").write_text("".join(f"{p.spec}\n" for p in wanted))
    return {"downloaded": wanted, "provided": skipped, "differ": differ, "built": built,
            "megabytes": sum(f.stat().st_size for f in out.glob("*.whl")) / 2**20}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", required=True, help="the chapter, e.g. jigsaw")
    parser.add_argument("--out", required=True, help="the folder to write (upload it as a Kaggle dataset)")
    parser.add_argument(
        "--provided", default=None, help="pip freeze of the Kaggle image: its packages are left out"
    )
    parser.add_argument("--provided-package", "--provided_package", action="append", default=[],
                        help="a package the image has (repeatable)")  # fmt: skip
    parser.add_argument("--python-version", "--python_version", default=PYTHON, help="the notebook's Python")
    parser.add_argument("--glibc", type=int, default=GLIBC, help="the notebook's glibc minor version (2.N)")
    parser.add_argument("--extra", action="append", default=[], help="an extra of the chapter (e.g. gpu)")
    args = parser.parse_args(argv)
    try:
        provided = read_provided(Path(args.provided) if args.provided else None, args.provided_package)
        held = build_wheels(args.package, Path(args.out), provided=provided, python_version=args.python_version,
                            glibc=args.glibc, extras=tuple(args.extra))  # fmt: skip
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as err:
        sys.exit(f"kls-wheels: {err}")
    print(f"kls-wheels: {args.out}: {args.package}, {', '.join(MEMBERS)} and {len(held['downloaded'])} locked "
          f"dependencies ({held['megabytes']:.0f} MB); {len(held['provided'])} left to the image")  # fmt: skip
    if held["built"]:
        print(f"  built from source here: {', '.join(p.spec for p in held['built'])}")
    for name, image, lock in held["differ"]:
        print(
            f"  {name}: the image has {image}, the lock {lock} (pip keeps the image's if it satisfies {args.package})"
        )
    print(f"  in the notebook: pip install --no-index --find-links <dataset> {args.package}")


if __name__ == "__main__":
    main()
