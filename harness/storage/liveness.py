"""Is the process that wrote a file still alive?  The run store and the report folder name each
temporary file after its writer (pid and host); a file whose writer died is a leftover to remove."""
from __future__ import annotations

import os
import socket
from pathlib import Path

HOST = socket.gethostname().replace("~", "-").replace("/", "-").replace("@", "-") or "localhost"
# A temporary file lives for one write (milliseconds).  Only for files written on another host, whose
# pids cannot be checked from here.
FOREIGN_TMP_AGE = 3600


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), from /proc; None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def writer_alive(pid: int, host: str, since: float) -> bool:
    """Is the process that wrote something at ``since`` still running?  Only on this host
    (another host's pids cannot be checked: True)."""
    if host != HOST:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists (another user's)
    except OSError:
        return True
    started = _process_start(pid)
    # a pid reused by a process started after the file was written is not its writer
    return started is None or started <= since + 2
