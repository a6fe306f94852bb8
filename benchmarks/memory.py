"""Peak memory of the running process, for benchmarks that measure a child process.

``getrusage(RUSAGE_SELF).ru_maxrss`` is no good for that on Linux: the kernel carries the
high-water mark across ``execve``, so a child started by a big benchmark process reports
its parent's size at fork time. ``VmHWM`` in ``/proc/self/status`` belongs to the new
program image alone; elsewhere ``ru_maxrss`` is the fallback.
"""

from __future__ import annotations

# the same code as a string, for the ``python -c`` children the benchmarks start
PEAK_MB_SOURCE = """
def peak_mb():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource, sys
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)
"""

exec(PEAK_MB_SOURCE)  # defines peak_mb() here too
