"""The check-in benchmark's CPU accounting (``bench.common``) reads the right processes' time from /proc."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import _cpu_seconds


def test_a_process_groups_cpu_counts_its_ended_children_too():
    """A group's time grows with the work of its members, and a child that ended still counts (as a gunicorn
    worker replaced after its requests does, through the master's children's time)."""
    group = os.getpgrp()
    before = _cpu_seconds(lambda pgrp, _name: "group" if pgrp == group else None)["group"]
    # a child in this group that burns CPU, then ends and is waited for (its time moves to ours)
    subprocess.run([sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"],
                   check=True)
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = _cpu_seconds(lambda pgrp, _name: "group" if pgrp == group else None)["group"]
    assert after - before >= 0.45, (before, after)


def test_a_name_with_spaces_and_brackets_is_read_whole():
    """/proc/<pid>/stat puts the name in brackets, and a name may hold brackets and spaces itself: the name
    is read whole and the fields after it (the process group) stay in place."""
    child = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                              "open('/proc/self/comm', 'w').write('a) b (c')\nprint('ready', flush=True)\ntime.sleep(5)"],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        seen = []
        _cpu_seconds(lambda pgrp, name: seen.append((pgrp, name)))
        assert (child.pid, "a) b (c") in seen  # its own session: its group is its pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
