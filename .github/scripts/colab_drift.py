"""Are the versions pinned in tests/colab_versions.sh still the ones Google Colab ships?

Colab publishes the packages of its runtime in googlecolab/backend-info (pip-freeze.txt). This reads
the pins of ``colab_pins=(...)`` in tests/colab_versions.sh, compares them with Colab's list and exits 1
when one differs, saying which and what to change. Run by .github/workflows/colab-versions.yml every
week; tests/test_workflows.py checks the comparison offline.

    python .github/scripts/colab_drift.py [--freeze pip-freeze.txt] [--summary FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "colab_versions.sh"
FREEZE_URL = "https://raw.githubusercontent.com/googlecolab/backend-info/main/pip-freeze.txt"
# Our pin -> the name of the same package in Colab (the pins use the CPU-only TensorFlow wheel).
COLAB_NAME = {"tensorflow-cpu": "tensorflow"}


def pinned(script_text: str) -> dict[str, str]:
    """``{package: version}`` of the ``colab_pins=(...)`` array of tests/colab_versions.sh."""
    match = re.search(r"^colab_pins=\(([^)]*)\)", script_text, re.MULTILINE)
    if not match:
        raise ValueError("no colab_pins=(...) line in tests/colab_versions.sh")
    return dict(re.findall(r"([A-Za-z0-9_.-]+)==([^\s)]+)", match[1]))


def colab_versions(freeze_text: str) -> dict[str, str]:
    """``{package (lower case): version}`` of a ``pip freeze`` listing."""
    return {name.lower(): version for name, version in
            re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", freeze_text, re.MULTILINE)}


def differences(pins: dict[str, str], colab: dict[str, str]) -> list[str]:
    problems = []
    for package, version in sorted(pins.items()):
        name = COLAB_NAME.get(package, package).lower()
        if name not in colab:
            problems.append(f"{name}: Colab's list does not have it any more (pinned {version})")
        elif colab[name] != version:
            problems.append(f"{name}: Colab ships {colab[name]}, tests/colab_versions.sh pins {version}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--freeze", type=Path, help="a pip-freeze.txt already downloaded (default: Colab's)")
    parser.add_argument("--summary", type=Path, help="append a Markdown report to this file ($GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)
    pins = pinned(SCRIPT.read_text(encoding="utf-8"))
    if args.freeze:
        freeze = args.freeze.read_text(encoding="utf-8")
    else:
        with urllib.request.urlopen(FREEZE_URL, timeout=60) as response:
            freeze = response.read().decode("utf-8")
    problems = differences(pins, colab_versions(freeze))
    if problems:
        report = ("### Colab's versions changed\n\n" + "\n".join(f"- {p}" for p in problems)
                  + "\n\nUpdate `colab_pins` in tests/colab_versions.sh (and the README's Colab line), "
                    "then run it.\n")
    else:
        report = ("### Colab's versions\n\nThe pins of tests/colab_versions.sh are Colab's: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(pins.items())) + ".\n")
    print(report)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as summary:
            summary.write(report + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
