"""The TIR sandbox: limits that kill, a jail that refuses, and the output the model gets back.

Only localhost is ever contacted. Each run starts a fresh interpreter (about 0.1 s).
"""

import os
import socket
import time
from pathlib import Path

import pytest

from aimo2.sandbox import (
    PythonSandbox,
    SandboxResult,
    extract_python_blocks,
    format_output_block,
    last_python_block,
    truncate_middle,
)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a zombie no longer runs, it only waits to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def first_int(result: SandboxResult) -> int:
    return int(result.stdout.split()[0])


def test_infinite_loop_is_killed_at_the_wall_clock_timeout():
    result = PythonSandbox(timeout_s=1.0).run("print('started', flush=True)\nwhile True:\n    pass")
    assert result.timed_out
    assert result.returncode is None
    assert 1.0 <= result.seconds < 3.0
    assert result.killed_reason == "Execution timed out after 1 s"
    assert result.output == "started\nExecution timed out after 1 s"  # partial output survives the kill


def test_cpu_limit_kills_before_the_wall_clock_timeout():
    result = PythonSandbox(timeout_s=20.0, cpu_s=1).run("while True:\n    pass")
    assert not result.timed_out
    assert result.returncode is not None and result.returncode < 0
    assert "CPU time limit of 1 s" in result.killed_reason
    assert result.seconds < 5.0


@pytest.mark.parametrize(
    "bomb",
    ["x = bytearray(4 * 1024**3)", "chunks = []\nwhile True:\n    chunks.append(bytearray(10**6))"],
)
def test_memory_bomb_is_stopped_by_the_address_space_limit(bomb):
    result = PythonSandbox(memory_mb=256).run(f"import os\nprint(os.getpid(), flush=True)\n{bomb}")
    assert result.returncode == 1
    assert not result.timed_out
    assert result.output.endswith("MemoryError")
    assert not group_exists(first_int(result))


@pytest.mark.parametrize(
    "writer",
    [
        "with open('big.bin', 'wb') as f:\n    f.write(bytes(17 * 1024**2))",
        "while True:\n    print('x' * 10**5)",
    ],
)
def test_file_size_limit_stops_a_runaway_writer(writer):
    result = PythonSandbox().run(writer)  # the captured stdout is a file too, under the same limit
    assert result.returncode == 1
    assert result.output.endswith("OSError: [Errno 27] File too large")
    assert len(result.stdout) <= 16 * 1024**2


def test_network_is_disabled_and_a_local_server_sees_no_connection():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        result = PythonSandbox().run(code)
        server.settimeout(0.3)
        with pytest.raises(TimeoutError):
            server.accept()  # a connection would have been queued by the kernel even without accept()
    assert result.returncode == 1
    assert result.output.endswith("OSError: network is disabled in the sandbox")


def test_raw_sockets_and_name_lookups_are_disabled_too():
    code = (
        "import socket\n"
        "for attempt in (lambda: socket.socket(), lambda: socket.getaddrinfo('localhost', 80)):\n"
        "    try:\n"
        "        attempt()\n"
        "    except OSError as error:\n"
        "        print(error)\n"
    )
    assert PythonSandbox().run(code).output == "\n".join(["network is disabled in the sandbox"] * 2)


def test_writes_outside_the_working_directory_are_refused(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    attempts = {
        "open": f"open({str(tmp_path / 'escape.txt')!r}, 'w').write('x')",
        "pathlib": f"pathlib.Path({str(tmp_path / 'escape.txt')!r}).write_text('x')",
        "os.open": f"os.open({str(tmp_path / 'escape.txt')!r}, os.O_WRONLY | os.O_CREAT)",
        "makedirs": f"os.makedirs({str(tmp_path / 'a' / 'b')!r})",
        "remove": f"os.remove({str(victim)!r})",
        "rename": f"os.rename({str(victim)!r}, 'stolen.txt')",
        "symlink": f"os.symlink({str(tmp_path)!r}, 'link'); open('link/escape.txt', 'w')",
        "shutil": f"shutil.copy('inside.txt', {str(tmp_path)!r})",
        "chdir": f"os.chdir({str(tmp_path)!r}); open('escape.txt', 'w')",  # last: it leaves the cwd
    }
    lines = ["import os, pathlib, shutil", "open('inside.txt', 'w').write('fine')"]
    for name, attempt in attempts.items():
        lines += ["try:", f"    {attempt}", "except PermissionError:", f"    print('refused {name}')"]
    result = PythonSandbox().run("\n".join(lines))
    assert result.stdout.split() == [word for name in attempts for word in ("refused", name)], result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["victim.txt"]
    assert victim.read_text() == "keep me"


def test_writes_inside_work_and_the_directory_is_removed_afterwards(monkeypatch):
    monkeypatch.setenv("AIMO2_TEST_SECRET", "token")
    code = (
        "import os, pathlib, shutil, tempfile\n"
        "pathlib.Path('sub').mkdir()\n"
        "pathlib.Path('sub/data.txt').write_text('42')\n"
        "shutil.copy('sub/data.txt', 'copy.txt')\n"
        "with tempfile.NamedTemporaryFile('w') as scratch:\n"
        "    scratch.write('x')\n"
        "shutil.rmtree('sub')\n"
        "cwd = os.getcwd()\n"
        "print(cwd, os.environ['HOME'] == cwd, os.environ['TMPDIR'] == cwd, 'AIMO2_TEST_SECRET' in os.environ)\n"
        "open('copy.txt').read()"
    )
    result = PythonSandbox().run(code)
    cwd, home_is_cwd, tmpdir_is_cwd, secret_leaked, value = result.output.split()
    assert (home_is_cwd, tmpdir_is_cwd, secret_leaked, value) == ("True", "True", "False", "'42'")
    assert not Path(cwd).exists()


def test_fork_bomb_is_refused_and_leaves_no_process_behind():
    code = "import os\nprint(os.getpid(), os.getpgrp(), flush=True)\nwhile True:\n    os.fork()"
    start = time.monotonic()
    result = PythonSandbox(timeout_s=5.0).run(code)
    assert time.monotonic() - start < 3.0
    pid, pgid = map(int, result.stdout.split())
    assert pid == pgid  # the child led its own process group
    assert result.output.endswith("OSError: process creation is disabled in the sandbox")
    assert not group_exists(pgid)


@pytest.mark.parametrize(
    "spawn",
    [
        "import subprocess; subprocess.run(['true'])",
        "os.system('true')",
        "os.execv('/bin/true', ['true'])",
        "os.posix_spawn('/bin/true', ['true'], {})",
        "import multiprocessing; multiprocessing.Process(target=print).start()",
    ],
)
def test_process_creation_is_refused(spawn):
    result = PythonSandbox().run(f"import os\n{spawn}")
    assert result.output.endswith("OSError: process creation is disabled in the sandbox")


def test_a_process_escaping_the_jail_is_killed_with_the_group():
    # ctypes forks past the Python-level jail (root ignores RLIMIT_NPROC): the group kill is the backstop.
    code = (
        "import ctypes, time\n"
        "pid = ctypes.CDLL(None).fork()\n"
        "if pid == 0:\n"
        "    time.sleep(30)\n"
        "print(pid, flush=True)"
    )
    result = PythonSandbox().run(code)
    grandchild = first_int(result)
    if grandchild == -1:  # not root: RLIMIT_NPROC refused the fork
        return
    deadline = time.monotonic() + 2.0
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(grandchild)


@pytest.mark.slow
def test_sympy_computation_returns_its_result():
    # ~4 s here: the venv is installed without bytecode, so sympy compiles on every import.
    code = "import sympy as sp\nx = sp.symbols('x')\nsp.solve(x**2 - 4, x)"
    result = PythonSandbox(timeout_s=60.0, cpu_s=60).run(code)
    assert result.returncode == 0, result.output
    assert result.output == "[-2, 2]"


@pytest.mark.parametrize(
    ("code", "output"),
    [
        ("x = 3\nx * 2", "6"),
        ("print('a')\n'b'", "a\n'b'"),
        ("print('a')\nNone", "a"),  # like a notebook, None is not shown
        ("1 + 1\ny = 2", ""),  # only the last statement is shown
        ("import sys\nprint('bye')\nsys.exit(0)", "bye"),
    ],
)
def test_last_expression_is_printed(code, output):
    result = PythonSandbox().run(code)
    assert result.returncode == 0
    assert result.output == output


def test_exception_feeds_back_the_traceback_tail():
    code = "print('before')\ndef f():\n    return 1 / 0\nf()"
    result = PythonSandbox().run(code)
    assert result.returncode == 1
    assert result.killed_reason is None
    assert result.output.startswith("before\nTraceback (most recent call last):")
    assert 'File "<cell>", line 3, in f' in result.output
    assert "return 1 / 0" in result.output  # the source line, for the model to fix
    assert result.output.endswith("ZeroDivisionError: division by zero")
    assert "<string>" not in result.output  # no frames of the sandbox itself


def test_syntax_error_is_reported():
    result = PythonSandbox().run("def f(:\n    pass")
    assert result.returncode == 1
    assert result.output.endswith("SyntaxError: invalid syntax")
    assert "Traceback" not in result.output


def test_long_output_keeps_head_and_tail_with_a_marker():
    result = PythonSandbox(max_output_chars=200).run("for i in range(1000):\n    print('line', i)\n1 / 0")
    assert len(result.stdout.splitlines()) == 1000  # the raw capture is complete
    out = result.output
    assert out.startswith("line 0\nline 1\n")
    assert "characters truncated" in out
    assert out.endswith("ZeroDivisionError: division by zero")  # the error survives truncation
    assert len(out) < 200 + 50


def test_truncate_middle():
    assert truncate_middle("abcdef", 6) == "abcdef"
    assert truncate_middle("abcdefghij", 4) == "ab\n... [6 characters truncated] ...\nij"
    assert truncate_middle("abcdefghij", 3) == "a\n... [7 characters truncated] ...\nij"
    with pytest.raises(ValueError, match="max_chars"):
        truncate_middle("abc", 0)


def test_python_blocks_and_output_block():
    generation = (
        "Let me compute.\n```python\nprint(1)\n```\n```output\n1\n```\n"
        "Again:\n```py\nx = 2\nx\n```\nand an unfinished\n```python\nprint("
    )
    assert extract_python_blocks(generation) == ["print(1)\n", "x = 2\nx\n"]
    assert last_python_block(generation) == "x = 2\nx\n"
    assert last_python_block("no code") is None
    result = PythonSandbox().run(last_python_block(generation))
    assert format_output_block(result) == "```output\n2\n```"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"cpu_s": 0}, "cpu_s"),
        ({"cpu_s": 1.5}, "cpu_s"),
        ({"memory_mb": -1}, "memory_mb"),
        ({"max_output_chars": 0}, "max_output_chars"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PythonSandbox(**kwargs)
