"""Workspace rules: the layout, one lock for all, isolated chapters, unique scripts, recipes that parse."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("jigsaw", "commonlit", "science-exam", "bengali-asr", "pii", "eedi", "wsdm", "aimo2")
RECIPE_HEADER = re.compile(r"^#\s*entry point:\s*(?P<script>[\w.-]+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Member:
    name: str
    path: Path
    pyproject: dict

    @property
    def import_name(self) -> str:
        return self.name.replace("-", "_")

    @property
    def scripts(self) -> dict[str, str]:
        return self.pyproject["project"].get("scripts", {})

    @property
    def dependencies(self) -> list[str]:
        return self.pyproject["project"].get("dependencies", [])


def members() -> list[Member]:
    """Workspace members as uv sees them (the root's member globs, expanded)."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    paths = sorted({p for pattern in root["tool"]["uv"]["workspace"]["members"] for p in ROOT.glob(pattern)})
    found = []
    for path in paths:
        data = tomllib.loads((path / "pyproject.toml").read_text())
        found.append(Member(data["project"]["name"], path, data))
    return found


def requirement_name(requirement: str) -> str:
    """The distribution name of a PEP 508 requirement string."""
    return re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_top_levels(path: Path) -> set[str]:
    """Top-level module names that a Python file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def recipe_script(recipe: Path) -> str:
    """The console script a recipe is for, from its ``# entry point: <script>`` header."""
    match = RECIPE_HEADER.search(recipe.read_text())
    if match is None:
        raise ValueError(f"{recipe}: no '# entry point: <script>' header line")
    return match["script"]


def recipe_parser(script: str, all_members: list[Member]):
    """The HfArgumentParser (or TrlParser) of a console script: its module's ``make_parser()``."""
    targets = {name: target for m in all_members for name, target in m.scripts.items()}
    if script not in targets:
        raise ValueError(f"entry point {script!r} is not a [project.scripts] name of any workspace member")
    module = importlib.import_module(targets[script].split(":")[0])
    if not hasattr(module, "make_parser"):
        raise ValueError(f"{module.__name__} (entry point {script!r}) defines no make_parser()")
    return module.make_parser()


ALL = members()
CHAPTER_MEMBERS = [m for m in ALL if m.name in CHAPTERS]


# ------------------------------------------------------------------------------------------ layout
def test_every_chapter_and_shared_is_a_member():
    assert sorted(m.name for m in ALL) == sorted((*CHAPTERS, "shared"))
    for m in ALL:
        assert (m.path / "src" / m.import_name / "__init__.py").is_file(), m.name


def test_chapters_depend_on_shared_and_declare_a_gpu_extra():
    for m in CHAPTER_MEMBERS:
        deps = {requirement_name(r) for r in m.dependencies}
        assert "shared" in deps, m.name
        assert m.pyproject["tool"]["uv"]["sources"]["shared"] == {"workspace": True}, m.name
        assert "gpu" in m.pyproject["project"].get("optional-dependencies", {}), m.name


def test_gpu_only_libraries_stay_in_the_gpu_extra():
    """CPU machines and CI must never install vLLM: it may appear only in a `gpu` extra."""
    for m in ALL:
        assert "vllm" not in {requirement_name(r) for r in m.dependencies}, m.name


def test_root_installs_every_member_for_uv_run_pytest():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert {requirement_name(r) for r in root["project"]["dependencies"]} == {m.name for m in ALL}


def test_script_names_are_unique_across_the_workspace():
    seen: dict[str, str] = {}
    for m in ALL:
        for script in m.scripts:
            assert script not in seen, (
                f"console script {script!r} is declared by both {seen[script]} and {m.name}"
            )
            seen[script] = m.name


# ------------------------------------------------------------------------------------------ isolation
def python_files(m: Member) -> list[Path]:
    return sorted(p for sub in ("src", "tests", "benchmarks") for p in (m.path / sub).rglob("*.py"))


def test_no_chapter_imports_another_chapter_and_shared_imports_none():
    chapter_imports = {m.import_name for m in CHAPTER_MEMBERS}
    offenders = []
    for m in ALL:
        allowed = {m.import_name}
        for path in python_files(m):
            for name in imported_top_levels(path) & (chapter_imports - allowed):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def test_members_declare_no_other_chapter_as_dependency():
    for m in ALL:
        deps = {requirement_name(r) for r in m.dependencies}
        assert not deps & (set(CHAPTERS) - {m.name}), m.name


def test_import_scan_sees_plain_and_from_imports(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("import jigsaw.data\nfrom pii import synth\nfrom . import local\nimport os as o\n")
    assert imported_top_levels(source) == {"jigsaw", "pii", "os"}


# ------------------------------------------------------------------------------------------ recipes
RECIPES = sorted(ROOT.glob("competitions/*/recipes/*.yaml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[str(r.relative_to(ROOT)) for r in RECIPES])
def test_every_recipe_parses_with_its_entry_points_parser(recipe):
    script = recipe_script(recipe)
    owner = next(m for m in ALL if script in m.scripts)
    assert recipe.parts[-3] == owner.name, f"{recipe} belongs to {owner.name}'s entry point {script}"
    parsed = recipe_parser(script, ALL).parse_yaml_file(str(recipe), allow_extra_keys=False)
    assert parsed, recipe


# attention kernels transformers runs without a package outside torch; FlashAttention needs flash-attn
BUILTIN_KERNELS = {"eager", "sdpa", "flex_attention"}


def kernels_the_lock_installs() -> set[str]:
    locked = {p["name"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    return BUILTIN_KERNELS | ({"flash_attention_2"} if "flash-attn" in locked else set())


@pytest.mark.parametrize("recipe", RECIPES, ids=[str(r.relative_to(ROOT)) for r in RECIPES])
def test_every_recipes_attention_kernel_is_one_the_lock_installs(recipe):
    import yaml

    def kernels(node):  # every *attn_implementation value, nested mappings (model_init_kwargs) included
        if isinstance(node, dict):
            for key, value in node.items():
                if "attn_implementation" in str(key) and value is not None:
                    yield key, value
                yield from kernels(value)

    for key, kernel in kernels(yaml.safe_load(recipe.read_text()) or {}):
        assert kernel in kernels_the_lock_installs(), (
            f"{recipe}: {key}: {kernel!r} needs a package uv.lock lacks"
        )


def test_recipe_checks_refuse_a_missing_header_or_unknown_script(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text("learning_rate: 1e-5\n")
    with pytest.raises(ValueError, match="no '# entry point"):
        recipe_script(bare)
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text("# entry point: no-such-script\nlearning_rate: 1e-5\n")
    assert recipe_script(tagged) == "no-such-script"
    with pytest.raises(ValueError, match=r"not a \[project.scripts\] name"):
        recipe_parser("no-such-script", ALL)


@pytest.mark.slow
@pytest.mark.parametrize("member", [m for m in members() if m.scripts], ids=lambda m: m.name)
def test_entry_points_import_cleanly_and_answer_help(member):
    """Every command starts clean: importing its module prints nothing (the libraries' import-time warnings,
    bitsandbytes' missing CPU kernel package, DeBERTa's torch.jit.script deprecation, are silenced by the
    chapter's ``__init__``). Then ``<command> --help`` exits 0 for every console script (a ``%`` in a help
    text, which argparse formats, once made one crash). One process per chapter does both: the imports are
    most of the time."""
    code = (
        "import contextlib, importlib, io, sys\n"
        "pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))\n"
        "for module in sorted({target.split(':')[0] for _, target in pairs}):\n"
        "    importlib.import_module(module)\n"
        "sys.stdout.flush(); sys.stderr.flush()\n"
        "print('--- imported', flush=True); print('--- imported', file=sys.stderr, flush=True)\n"
        "bad = []\n"
        "for name, target in pairs:\n"
        "    module, attr = target.split(':')\n"
        "    main = getattr(importlib.import_module(module), attr)\n"
        "    sys.argv = [name, '--help']\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "            main()\n"
        "        bad.append(f'{name}: did not exit')\n"
        "    except SystemExit as stop:\n"
        "        if stop.code not in (0, None):\n"
        "            bad.append(f'{name}: exit {stop.code}')\n"
        "    except Exception as err:\n"
        "        bad.append(f'{name}: {type(err).__name__}: {err}')\n"
        "print('\\n'.join(bad), end='')\n"
    )
    pairs = [item for name, target in sorted(member.scripts.items()) for item in (name, target)]
    env = {k: v for k, v in os.environ.items() if k != "KLS_VERBOSE"}
    done = subprocess.run([sys.executable, "-c", code, *pairs], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = done.stdout.partition("--- imported\n")[0] + done.stderr.partition("--- imported\n")[0]
    assert printed == "", f"importing {member.name}'s commands printed:\n{printed}"
    assert done.stdout.endswith("--- imported\n"), done.stdout  # and no command failed its --help
