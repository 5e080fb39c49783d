r"""Run model-written Python for tool-integrated reasoning (TIR), in a separate, limited process.

The AIMO2 winners let the model write ```python blocks, run each in a subprocess with time and memory
limits, and append what it printed as an ```output block before generation resumes. This module is
that subprocess, with these layers:

* OS limits, set in the child before the code runs: CPU time (RLIMIT_CPU), address space (RLIMIT_AS),
  file size (RLIMIT_FSIZE, which also caps the captured output: a write past it raises
  ``OSError: File too large``), no core dumps, and RLIMIT_NPROC = 0 so that a non-root user cannot start
  processes or threads. The kernel exempts root from RLIMIT_NPROC, hence the next two layers.
* A wall-clock timeout, after which the child's whole process group (its own session) is killed; the
  group is killed after every run, so nothing the code started outlives it.
* A Python-level jail installed before the code runs: socket creation and name lookups raise
  ``OSError("network is disabled in the sandbox")``; fork, exec, spawn, ``subprocess.Popen`` and
  ``multiprocessing`` start raise ``OSError("process creation is disabled in the sandbox")``; opening a
  file for writing or mutating a path (mkdir, remove, rename, chmod, ...) whose real path lies outside
  the throwaway working directory raises PermissionError. Reads are allowed, so sympy and numpy import.
* A fresh working directory, also HOME and TMPDIR, deleted after the run, and a minimal environment so
  that no secrets (API tokens) of the parent leak into the child.

This is a best-effort jail against buggy or careless code, not a security boundary: code that means to
escape can, e.g. through ctypes, ``io.FileIO`` or a C extension. Linux only (pidfd, /proc).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "PythonSandbox",
    "SandboxResult",
    "extract_python_blocks",
    "format_output_block",
    "last_python_block",
    "truncate_middle",
]

_MAX_FILE_BYTES = 16 * 1024**2  # any file the child writes, its stdout and stderr included
_PYTHON_BLOCK = re.compile(r"```(?:python|py)[ \t]*\n(.*?)```", re.DOTALL)

# Runs in the child as `python -c _BOOTSTRAP CELL_PATH WORK_DIR CPU_S MEMORY_BYTES FILE_BYTES`.
_BOOTSTRAP = r'''
import ast, builtins, errno, io, linecache, os, posix, resource, socket, subprocess, sys, traceback, types
import _io, _posixsubprocess, _socket
import multiprocessing.process

_CELL = "<cell>"
_cell_path, _root, _cpu_s, _memory, _file_bytes = sys.argv[1], os.path.realpath(sys.argv[2]), *map(int, sys.argv[3:6])


def _limit():
    resource.setrlimit(resource.RLIMIT_CPU, (_cpu_s, _cpu_s + 1))  # SIGXCPU, then SIGKILL a second later
    resource.setrlimit(resource.RLIMIT_AS, (_memory, _memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_file_bytes, _file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no effect for root, hence the jail below


def _denied(message):
    def deny(*args, **kwargs):
        raise OSError(message)
    return deny


def _check(path, dir_fd=None):
    if path is None or isinstance(path, int):  # a file descriptor was already checked when opened
        return
    base = os.getcwd() if dir_fd is None else os.readlink(f"/proc/self/fd/{dir_fd}")
    real = os.path.realpath(os.path.join(base, os.fsdecode(path)))
    if os.path.commonpath([real, _root]) != _root:
        message = "writing outside the sandbox working directory is not allowed"
        raise PermissionError(errno.EACCES, message, os.fsdecode(path))


def _guard(func, paths):
    def guarded(*args, **kwargs):
        for position, name, dir_fd in paths:
            _check(args[position] if position < len(args) else kwargs.get(name), kwargs.get(dir_fd))
        return func(*args, **kwargs)
    return guarded


def _jail():
    no_network = _denied("network is disabled in the sandbox")
    no_process = _denied("process creation is disabled in the sandbox")
    socket.socket.__init__ = no_network  # socket.socket stays a class, so ssl can still subclass it
    _socket.socket = no_network
    for name in ("socketpair", "fromfd", "create_connection", "create_server", "getaddrinfo", "getnameinfo",
                 "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        for module in (socket, _socket):
            if hasattr(module, name):
                setattr(module, name, no_network)
    for module in (os, posix):
        for name in dir(module):
            if name in ("fork", "forkpty", "system", "popen", "posix_spawn", "posix_spawnp") or (
                name.startswith(("exec", "spawn")) and callable(getattr(module, name))
            ):
                setattr(module, name, no_process)
    subprocess.Popen.__init__ = no_process
    _posixsubprocess.fork_exec = no_process
    multiprocessing.process.BaseProcess.start = no_process

    real_open, real_os_open = builtins.open, os.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def jailed_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            _check(file)
        return real_open(file, mode, *args, **kwargs)

    def jailed_os_open(path, flags, *args, dir_fd=None, **kwargs):
        if flags & write_flags:
            _check(path, dir_fd)
        return real_os_open(path, flags, *args, dir_fd=dir_fd, **kwargs)

    builtins.open = io.open = _io.open = jailed_open  # pathlib and shutil open files through these
    one = ((0, "path", "dir_fd"),)
    two = ((0, "src", "src_dir_fd"), (1, "dst", "dst_dir_fd"))
    mutations = dict.fromkeys(("mkdir", "rmdir", "remove", "unlink", "chmod", "chown", "lchown", "truncate",
                               "utime", "mkfifo", "mknod"), one)
    mutations.update(rename=two, replace=two, link=two, symlink=((1, "dst", "dir_fd"),))
    for module in (os, posix):  # os.makedirs, os.removedirs and shutil call these through the module
        module.open = jailed_os_open
        for name, paths in mutations.items():
            if hasattr(module, name):
                setattr(module, name, _guard(getattr(module, name), paths))


def _run(source):
    """Execute like a notebook cell: the value of a final expression is printed."""
    linecache.cache[_CELL] = (len(source), None, source.splitlines(True), _CELL)  # source in tracebacks
    tree = ast.parse(source, _CELL)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    exec(compile(tree, _CELL, "exec"), main.__dict__)
    if last is not None:
        sys.displayhook(eval(compile(ast.Expression(last.value), _CELL, "eval"), main.__dict__))


with open(_cell_path, encoding="utf-8") as _file:
    _source = _file.read()
_limit()
_jail()
try:
    _run(_source)
except SystemExit:
    raise
except BaseException as exc:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != _CELL:  # frames of this bootstrap and ast
        tb = tb.tb_next
    report = traceback.TracebackException(type(exc), exc, tb)
    user_frames = [frame for frame in report.stack if frame.filename != "<string>"]  # not the jail's
    report.stack = traceback.StackSummary.from_list(user_frames)
    print("".join(report.format()), end="", file=sys.stderr)
    sys.exit(1)
'''


def truncate_middle(text: str, max_chars: int) -> str:
    """Keep the first and last ``max_chars / 2`` characters: the start shows what ran, the end how it ended."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if len(text) <= max_chars:
        return text
    head = max_chars // 2
    omitted = len(text) - max_chars
    return f"{text[:head]}\n... [{omitted} characters truncated] ...\n{text[-(max_chars - head) :]}"


@dataclass(frozen=True)
class SandboxResult:
    """What one run produced. ``returncode`` is None when the wall-clock timeout killed the run."""

    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool
    killed_reason: str | None
    seconds: float
    max_output_chars: int = 2000

    @property
    def output(self) -> str:
        """The text fed back to the model: stdout, plus the traceback and the kill reason on failure."""
        parts = [self.stdout]
        if self.returncode != 0:
            parts += [self.stderr, self.killed_reason or ""]
        return truncate_middle("\n".join(part.rstrip("\n") for part in parts if part), self.max_output_chars)


class PythonSandbox:
    """Runs code in a fresh, limited Python process per call (see the module docstring for the limits)."""

    def __init__(
        self,
        timeout_s: float = 10.0,
        cpu_s: int = 10,
        memory_mb: int = 1024,
        max_output_chars: int = 2000,
        python: str = sys.executable,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        for name, value in (
            ("cpu_s", cpu_s),
            ("memory_mb", memory_mb),
            ("max_output_chars", max_output_chars),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.timeout_s = timeout_s
        self.cpu_s = cpu_s
        self.memory_mb = memory_mb
        self.max_output_chars = max_output_chars
        self.python = python

    def run(self, code: str) -> SandboxResult:
        """Execute ``code`` and return what it printed; never raises for anything the code does."""
        with tempfile.TemporaryDirectory(prefix="aimo2-sandbox-") as tmp:
            work = Path(tmp, "work")  # the child may write only here; the cell and its output live beside it
            work.mkdir()
            cell = Path(tmp, "cell.py")
            cell.write_text(code, encoding="utf-8")
            env = {"HOME": str(work), "TMPDIR": str(work)}
            env |= dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
            args = [str(arg) for arg in (cell, work, self.cpu_s, self.memory_mb * 1024**2, _MAX_FILE_BYTES)]
            with Path(tmp, "stdout").open("w+b") as out, Path(tmp, "stderr").open("w+b") as err:
                start = time.monotonic()
                with subprocess.Popen(
                    [self.python, "-I", "-B", "-u", "-X", "utf8", "-c", _BOOTSTRAP, *args],
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,  # its own process group, killed as a whole below
                ) as proc:
                    timed_out = not _exited_within(proc.pid, self.timeout_s)
                    _kill_group(proc.pid)
                    returncode = proc.wait()
                seconds = time.monotonic() - start
                stdout, stderr = (_read(f) for f in (out, err))
        return SandboxResult(
            stdout=stdout,
            stderr=stderr,
            returncode=None if timed_out else returncode,
            timed_out=timed_out,
            killed_reason=self._killed_reason(returncode, timed_out),
            seconds=seconds,
            max_output_chars=self.max_output_chars,
        )

    def _killed_reason(self, returncode: int, timed_out: bool) -> str | None:
        if timed_out:
            return f"Execution timed out after {self.timeout_s:g} s"
        if returncode >= 0:
            return None
        if -returncode == signal.SIGXCPU:
            return f"CPU time limit of {self.cpu_s} s exceeded"
        return f"Killed by {signal.Signals(-returncode).name}"


def _exited_within(pid: int, timeout_s: float) -> bool:
    """Wait for the exit without reaping: the leader stays a zombie, so its group id cannot be reused."""
    pidfd = os.pidfd_open(pid)
    try:
        return bool(select.select([pidfd], [], [], timeout_s)[0])
    finally:
        os.close(pidfd)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _read(file: BinaryIO) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def extract_python_blocks(text: str) -> list[str]:
    """The closed ```python (or ```py) blocks of a generation, in order."""
    return _PYTHON_BLOCK.findall(text)


def last_python_block(text: str) -> str | None:
    """The block to execute when generation stopped after a closing fence."""
    blocks = extract_python_blocks(text)
    return blocks[-1] if blocks else None


def format_output_block(result: SandboxResult) -> str:
    """The ```output block appended to the generation before the model continues."""
    return f"```output\n{result.output}\n```"
