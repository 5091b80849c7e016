"""``python -m benchmarks.launch USAGE_JSON COMMAND...``: run COMMAND, then write its own usage.

Linux charges a program started by exec with the peak memory of the process that started it:
a tap the benchmark started directly would report the benchmark's own peak (hundreds of MB
once a scenario has loaded a big output) as its peak RSS. Started from this small process, its
peak RSS and CPU time are its own; they are written to USAGE_JSON. SIGTERM is passed on to
COMMAND, and this process ends as COMMAND did (its exit code, or the signal that ended it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def main() -> None:
    usage_path, command = Path(sys.argv[1]), sys.argv[2:]
    child = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    _, status, usage = os.wait4(child.pid, 0)
    usage_path.write_text(
        json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "peak_rss_kb": usage.ru_maxrss})
    )
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    main()
