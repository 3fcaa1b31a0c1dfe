"""Is the process that wrote a file still alive?  The run store and the report folder name each
temporary file after its writer (pid and host); a file whose writer died is a leftover to remove."""
from __future__ import annotations

import os
import socket

import psutil

HOST = socket.gethostname().replace("~", "-").replace("/", "-").replace("@", "-") or "localhost"
# A temporary file lives for one write (milliseconds).  Only for files written on another host, whose
# pids cannot be checked from here.
FOREIGN_TMP_AGE = 3600


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds); None where unknown."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError, OSError):
        return None


def _exists(pid: int) -> bool:
    """Does a process ``pid`` exist here (another user's too)?  True where that cannot be told."""
    try:
        return psutil.pid_exists(pid)
    except OSError:
        return True


def writer_alive(pid: int, host: str, since: float) -> bool:
    """Is the process that wrote something at ``since`` still running?  Only on this host
    (another host's pids cannot be checked: True)."""
    if host != HOST:
        return True
    if pid == os.getpid() or pid == 0:  # 0: no process's id (kill(0) is one's own group), never told dead
        return True
    if not _exists(pid):
        return False
    started = _process_start(pid)
    # a pid reused by a process started after the file was written is not its writer
    return started is None or started <= since + 2
