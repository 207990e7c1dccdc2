"""requirements.txt tells the truth about where the course installs (issue 14).

For every supported platform and Python, ``uv pip compile`` resolves requirements.txt against the
package index without installing anything, and we check that exactly one TensorFlow package comes
out, the right one. Unsupported targets must fail, and say why. Asking the index is what takes time
(10-20 s a resolution here, nearly all of it waiting: uv revalidates every index page), so each target
first resolves from uv's cache (``--offline``, under a second to a few seconds) and asks the index only
if something is missing there; all targets run at once in threads. Measured on the shared 2-core
machine: about 30 s with a warm cache, 2.5 min with an empty one (the first run on a machine).

Needs the package index (uv asks it for metadata only); offline the tests are skipped, loudly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"

# uv's names for the platforms. Linux: TensorFlow 2.21's wheels are manylinux_2_27, so we resolve for
# glibc 2.28 (Debian 10, Ubuntu 20.04 and later).
LINUX_X86_64 = "x86_64-manylinux_2_28"
LINUX_AARCH64 = "aarch64-manylinux_2_28"
WINDOWS_X86_64 = "x86_64-pc-windows-msvc"
MACOS_ARM64 = "aarch64-apple-darwin"

TENSORFLOW_FOR = {LINUX_X86_64: "tensorflow-cpu", WINDOWS_X86_64: "tensorflow-cpu",
                  LINUX_AARCH64: "tensorflow", MACOS_ARM64: "tensorflow"}
PYTHONS = ("3.11", "3.12", "3.13")
SUPPORTED = [(platform, python) for platform in TENSORFLOW_FOR for python in PYTHONS]

# Unsupported targets and a piece of uv's message that says why it fails.
UNSUPPORTED = {
    ("x86_64-apple-darwin", "3.12"): "has no wheels with a matching platform tag",   # Intel Mac
    ("aarch64-pc-windows-msvc", "3.12"): "has no wheels with a matching platform tag",   # Windows on ARM
    (LINUX_X86_64, "3.10"): "keras==3.15.1 depends on Python>=3.11",
    (LINUX_X86_64, "3.14"): "cp314",
}

OFFLINE_SIGNS = ("error sending request", "Failed to fetch", "dns error", "Could not connect")


def uv_compile(*options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--no-header", "--no-annotate",
               *options, str(REQUIREMENTS)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "UV_NO_PROGRESS": "1"})


def compile_for(platform: str, python: str) -> subprocess.CompletedProcess:
    target = ("--python-platform", platform, "--python-version", python)
    result = uv_compile("--offline", *target)
    # Something missing from the cache reads "... the network was disabled" or "there is no version of ...".
    if result.returncode and any(s in result.stderr for s in ("there is no version of", "network")):
        result = uv_compile(*target)
    return result


@pytest.fixture(scope="module")
def resolutions():
    targets = SUPPORTED + list(UNSUPPORTED)
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        results = dict(zip(targets, pool.map(lambda t: compile_for(*t), targets)))
    offline = [r for r in results.values() if r.returncode and any(s in r.stderr for s in OFFLINE_SIGNS)]
    if offline:
        pytest.skip("SKIPPED: the package index cannot be reached, requirements not resolved:\n"
                    + offline[0].stderr[-500:])
    return results


def pins(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", output, flags=re.MULTILINE))


@pytest.mark.parametrize("platform, python", SUPPORTED)
def test_supported_platform_gets_exactly_one_tensorflow(resolutions, platform, python):
    result = resolutions[platform, python]
    assert result.returncode == 0, f"{platform}, Python {python} does not resolve:\n{result.stderr}"
    resolved = pins(result.stdout)
    tensorflows = sorted(name for name in resolved if name in ("tensorflow", "tensorflow-cpu"))
    assert tensorflows == [TENSORFLOW_FOR[platform]], (platform, python, tensorflows)
    assert resolved[TENSORFLOW_FOR[platform]] == "2.21.0"
    assert (resolved["keras"], resolved["numpy"]) == ("3.15.1", "2.3.5")


@pytest.mark.parametrize("platform, python", list(UNSUPPORTED))
def test_unsupported_target_fails_and_says_why(resolutions, platform, python):
    result = resolutions[platform, python]
    assert result.returncode != 0, f"{platform}, Python {python} resolved but is not supported:\n{result.stdout}"
    message = " ".join(result.stderr.split())   # uv wraps long lines
    assert UNSUPPORTED[platform, python] in message, message


def requirement_pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].split(";")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("==") for line in lines if line)


def test_binder_installs_the_same_pins_on_a_supported_python():
    binder = REQUIREMENTS.parent / "binder"
    root, runtime = requirement_pins(REQUIREMENTS), requirement_pins(binder / "requirements.txt")
    assert {name: root.get(name) for name in runtime} == runtime, "binder/requirements.txt drifted from requirements.txt"
    assert {"tensorflow-cpu", "keras", "numpy", "emnist"} <= set(runtime)   # Binder runs Linux x86_64
    assert (binder / "runtime.txt").read_text().strip() in {f"python-{v}" for v in PYTHONS}
    for script in ("postBuild", "start"):
        assert os.access(binder / script, os.X_OK), f"binder/{script} must be executable"
    assert "TL_QUICK=1" in (binder / "start").read_text() and (binder / "start").read_text().rstrip().endswith('exec "$@"')
