"""Repository-wide pytest hooks: per-notebook run times, and the quick series total.

nbval runs each notebook cell as one test item; this sums their times per notebook and prints
them at the end of the run, so CI shows how long each notebook of the series takes.
"""

from collections import defaultdict
from pathlib import Path

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[Path(path).name] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook run times (kernel start-up and every cell)")
    for name, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  series total")
