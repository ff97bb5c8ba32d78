"""One build of a recipe at a time, and an output folder checked before anything is paid for."""
from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path


class BuildBusy(Exception):
    """Another process is running the same build."""


def check_writable(folder: Path) -> None:
    """Create `folder` and write a file in it, or raise OutputNotWritable naming the folder and why."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ascl-write-test-"):
            pass
    except OSError as e:
        raise OutputNotWritable(f"cannot write build outputs to {folder}: {e.strerror or e}") from None


class OutputNotWritable(Exception):
    pass


class BuildLock:
    """An exclusive, non-blocking flock on a file beside the build; the holder's pid is written in it. The
    kernel drops the lock when the holder dies (kill -9 included), so a stale file never blocks a rerun."""

    def __init__(self, path: Path):
        self.path, self._fd = path, None

    def __enter__(self) -> "BuildLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BuildBusy(f"another process (pid {holder}) is running this build ({self.path.parent}); "
                            f"wait for it to finish or stop it, then run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
