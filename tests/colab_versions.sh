#!/usr/bin/env bash
# Pre-release check: the quick series under nbval with Google Colab's versions (issue 14).
#
# Colab (2026-08 image) ships TensorFlow 2.20.0, Keras 3.13.2, numpy 2.1.3 and h5py 3.16.0; Kaggle builds on
# a Colab image. This makes a second venv with those versions (tensorflow-cpu: the same code without CUDA,
# installable here) plus the rest of requirements.txt, copies the committed tree (git archive HEAD) and the
# MNIST cache into a scratch folder and runs the notebooks there in quick mode, so the working tree is untouched.
# Too slow for .ci/run (about 12 min of notebooks on top of CI's 12.5 min): run it before each release.
#
#   tests/colab_versions.sh                # venv in tmp/venv-colab/ (reused), log in tmp/colab_versions.log
#   COLAB_VENV=/some/venv tests/colab_versions.sh notebooks/05_fine_tuning_y_comparacion.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
venv=${COLAB_VENV:-$repo/tmp/venv-colab}   # tmp/ is not committed
log=${COLAB_LOG:-$repo/tmp/colab_versions.log}
colab_pins=(tensorflow-cpu==2.20.0 keras==3.13.2 numpy==2.1.3 h5py==3.16.0)

if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv with Colab's versions: ${colab_pins[*]}"
  python3 -m venv "$venv"
  # every pin of requirements.txt except the four packages Colab provides in other versions
  grep -vE '^(tensorflow|tensorflow-cpu|keras|numpy|h5py)[=;[:space:]]' requirements.txt > "$venv/requirements-colab.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$venv/requirements-colab.txt" "${colab_pins[@]}"
fi
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
print("== versions:", ", ".join(f"{p} {m.version(p)}" for p in ("tensorflow-cpu", "keras", "numpy", "h5py", "emnist")))
PY

work=$(mktemp -d "${TMPDIR:-/tmp}/tl-colab.XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive HEAD | tar -x -C "$work"
mkdir -p "$work/data/mnist"
cp "$repo"/data/mnist/*.gz "$work/data/mnist/" 2>/dev/null || true
cd "$work"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(notebooks)
mkdir -p "$(dirname "$log")"
echo "== quick series under nbval in $work ($(date -u +%H:%M:%S)), log: $log"
TL_QUICK=1 "$venv/bin/python" -m pytest --nbval-current-env -q -rfE "${targets[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "== done ($(date -u +%H:%M:%S)), exit $status"
exit "$status"
