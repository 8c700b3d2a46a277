"""Rebuild against read + decode of the log, for two checkouts of the code (issue 15).

    python bench/rebuild_compare.py LEDGER.db CODE_DIR [LABEL]

Copies the SQLite ledger, reads and decodes its log in a child (``Ledger.read_log()``, the
baseline of bench/run.py) and times ``sanctions rebuild`` in another, both with CODE_DIR first
on ``sys.path`` (so ``git archive main`` unpacked somewhere measures main). Prints wall and CPU
seconds and their ratios: under a loaded machine the CPU ratio is the steadier one.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time

READ = """
import time
from ledger import Ledger
ledger = Ledger({url!r})
t, c = time.perf_counter(), time.process_time()
n = sum(1 for _ in ledger.read_log())
print(n, time.perf_counter() - t, time.process_time() - c)
"""
REBUILD = (
    "import sys; from cli.entry import main; "
    "sys.argv = ['sanctions', '--db', {url!r}, 'rebuild']; main()"
)


def main() -> None:
    src, code = sys.argv[1], sys.argv[2]
    label = sys.argv[3] if len(sys.argv) > 3 else code
    db = f"/tmp/rebuild-compare-{os.getpid()}.db"
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(src + ext):
            shutil.copy(src + ext, db + ext)
    url = f"sqlite:///{db}"
    env = dict(os.environ, PYTHONPATH=code)
    try:
        out = subprocess.run(
            [sys.executable, "-c", READ.format(url=url)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        n, read, read_cpu = int(out[0]), float(out[1]), float(out[2])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", REBUILD.format(url=url)],
            env=env,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(
            f"{label}: events={n} read={read:.2f}s (cpu {read_cpu:.2f}) rebuild={wall:.2f}s "
            f"(cpu {cpu:.2f}) ratio_wall={read / wall:.3f} ratio_cpu={read_cpu / cpu:.3f} "
            f"peak_rss={after.ru_maxrss / 1024:.0f}MB load={os.getloadavg()[0]:.1f}"
        )
    finally:
        for ext in ("", "-wal", "-shm"):
            if os.path.exists(db + ext):
                os.remove(db + ext)


if __name__ == "__main__":
    main()
