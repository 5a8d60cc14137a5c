#!/usr/bin/env bash
# One command on a GPU machine for every figure of issue 14 (see README.md here).
#
# Steps: the device's facts; an offline install of the carried wheels; the CUDA
# tests side by side with notebooks 05-08 in quick mode (neither is timed); the
# quality benchmark; the training-speed benchmark. Each step's output goes to
# <step>.log, with its exit status and seconds in summary.md. A failing step does
# not stop the later ones, but the exit status is 1 if any step failed.
#
# The whole run keeps within GPU_BUDGET_S seconds (default 450, under 8 minutes):
# each step has a cap, shortened to the time left, and a step with no time left
# is skipped (and counts as failed).
#
# Everything lands in build/gpu-run/; the device tool brings back at
# most 8 files, so $OUT (default build/gpu-out) gets summary.md, the result pages
# and grids, and gpu-run.tar.gz holding all of build/gpu-run/.
#
# Usage, from the repository root with build/wheels carried:
#   OUT=... bash benchmarks/gpu/run.sh
#   OUT=/tmp/gpu-dry GPU_DRY_RUN=1 bash benchmarks/gpu/run.sh   (a CPU rehearsal)
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-build/gpu-out}
RUN_DIR=build/gpu-run
DRY=${GPU_DRY_RUN:-0}
BUDGET=${GPU_BUDGET_S:-450}
BASE_PY=${PYTHON:-python3}
if [ "$DRY" = 1 ] && [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then
  BASE_PY=$ROOT/.venv/bin/python # here python3 may lack torch; the course venv has it
fi
case "$BUDGET" in
  '' | *[!0-9]*) echo "run.sh: GPU_BUDGET_S must be whole seconds, got '$BUDGET'" >&2; exit 2 ;;
esac

mkdir -p "$OUT" "$RUN_DIR" || exit 2
OUT=$(cd "$OUT" && pwd)
RUN_DIR=$(cd "$RUN_DIR" && pwd)
rm -rf "${RUN_DIR:?}"/*
mkdir -p "$RUN_DIR/results"
STATUS=$RUN_DIR/steps.tsv # name, status, exit code, seconds: one line per step
: >"$STATUS"
touch "$RUN_DIR/start.stamp" # results newer than this were written by this run
START=$(date +%s)
PY=$BASE_PY # replaced by the venv's python once the install step has made it

export ROOT BASE_PY PYTHONPATH=$ROOT MPLBACKEND=Agg GANCOURSE_HEADLESS=1
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1

time_left() { echo $((START + BUDGET - $(date +%s))); }

# step NAME CAP COMMAND...: run COMMAND (a program or an exported function) with
# its output in NAME.log, for at most CAP seconds or the time left.
step() {
  local name=$1 cap=$2 log=$RUN_DIR/$1.log left limit start status text
  shift 2
  left=$(time_left)
  limit=$((cap < left ? cap : left))
  if ((limit < 10)); then
    echo "== $name: skipped, ${left} s of the ${BUDGET} s budget left" | tee "$log"
    printf '%s\tskipped: out of time\t-\t0\n' "$name" >>"$STATUS"
    return 1
  fi
  echo "== $name (at most ${limit} s)"
  start=$(date +%s)
  timeout -k 10 "$limit" bash -c '"$@"' "$name" "$@" >"$log" 2>&1
  status=$?
  case $status in
    0) text=ok ;;
    124 | 137) text="timed out after ${limit} s" ;;
    *) text=failed ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$text" "$status" $(($(date +%s) - start)) >>"$STATUS"
  echo "== $name: $text (exit $status) in $(($(date +%s) - start)) s"
  return "$status"
}

skip() {
  echo "== $1: skipped ($2)" | tee "$RUN_DIR/$1.log"
  printf '%s\tskipped (%s)\t-\t0\n' "$1" "$2" >>"$STATUS"
}

# ---- the steps ---------------------------------------------------------------

device_facts() {
  if command -v nvidia-smi >/dev/null; then nvidia-smi; else echo "no nvidia-smi here"; fi
  "$PY" - <<'EOF'
import os, platform, torch
print(f"python {platform.python_version()}, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
print(f"{os.cpu_count()} CPU cores; CUDA available: {torch.cuda.is_available()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, "
          f"{p.multi_processor_count} SMs, capability {p.major}.{p.minor}")
EOF
}

check_imports() {
  "$1" - <<'EOF'
import importlib
missing = []
for name in ("torch", "gancourse", "scipy", "pytest", "ipywidgets", "IPython"):
    try:
        importlib.import_module(name)
    except Exception as error:  # an import can fail in many ways
        missing.append(f"{name} ({type(error).__name__}: {error})")
print("missing:", "; ".join(missing) if missing else "nothing")
raise SystemExit(1 if missing else 0)
EOF
}

# The lines of a .pth file that add python's own site folders (with their .pth files)
base_site_lines() {
  "$BASE_PY" -c 'import site
for folder in site.getsitepackages():
    print(f"import site; site.addsitedir({folder!r})")'
}

install_packages() {
  local venv=build/gpu-venv site wheels
  local wanted=(scipy threadpoolctl pytest ipywidgets)
  rm -rf "$venv"
  if ! "$BASE_PY" -m venv --system-site-packages --without-pip "$venv"; then
    echo "no venv could be made: installing into $BASE_PY's packages"
    "$BASE_PY" -m pip install --no-index --find-links build/wheels "${wanted[@]}"
    wheels=$?
    check_imports "$BASE_PY" && return "$wheels"
    return
  fi
  # The GPU image's python3 is itself a venv, and a venv made from it does not see
  # that venv's packages (torch): a .pth file adds them. The venv has no pip or
  # setuptools of its own (an old bundled setuptools cannot build the editable
  # install): it uses python3's.
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  base_site_lines >"$site/base-packages.pth"
  "$venv/bin/python" -m pip install --no-index --find-links build/wheels "${wanted[@]}"
  wheels=$?
  "$venv/bin/python" -m pip install --no-index --no-deps --no-build-isolation -e . ||
    echo "the editable install failed: gancourse is imported through PYTHONPATH=$ROOT"
  check_imports "$venv/bin/python" && return "$wheels"
}

cuda_tests() {
  local pytest=("$PY" -m pytest -o addopts= -p no:cacheprovider --strict-markers)
  local status=0
  "${pytest[@]}" -m cuda -v tests/test_devices.py || status=$?
  if [ "$DRY" = 1 ]; then # a busy CPU: the shortest of the two files
    "${pytest[@]}" tests/test_sync_window.py || status=$?
  else
    "${pytest[@]}" tests/test_sync_window.py tests/test_training.py || status=$?
  fi
  return "$status"
}

notebooks() {
  local list=(notebooks/05_dcgan.ipynb notebooks/06_dcgan_experiments.ipynb
    notebooks/07_wgan_and_wgan_gp.ipynb notebooks/08_conditional_cgan_acgan.ipynb)
  local jobs=4
  if [ "$DRY" = 1 ]; then list=(notebooks/01_backprop_and_activations.ipynb) jobs=1; fi
  GANCOURSE_QUICK=1 "$PY" benchmarks/gpu/run_notebooks.py --out "$RUN_DIR/notebooks" \
    --jobs "$jobs" --timeout 200 "${list[@]}"
}

quality() {
  if [ "$DRY" = 1 ]; then
    "$PY" benchmarks/gpu/quality_gpu.py --smoke --device cpu --out "$RUN_DIR/results"
    return
  fi
  # time caps that leave room for the DCGAN and for the speed step after this one
  local left cgan dcgan
  left=$(time_left)
  cgan=$((left - 150 > 240 ? 240 : left - 150))
  cgan=$((cgan < 30 ? 30 : cgan))
  dcgan=$((left - cgan - 60 > 120 ? 120 : left - cgan - 60))
  dcgan=$((dcgan < 20 ? 20 : dcgan))
  echo "time caps: CGAN ${cgan} s, DCGAN ${dcgan} s (${left} s left)"
  "$PY" benchmarks/gpu/quality_gpu.py --cgan-seconds "$cgan" --dcgan-seconds "$dcgan"
}

speed() {
  "$PY" benchmarks/train_speed.py --device cuda --dataset shapes --image-size 32 \
    --width 64 --batch-sizes 64,128 --variants trainer,sync-every-step,compiled \
    --trials 3 --steps 200 --profile
}

collect_results() {
  mkdir -p "$RUN_DIR/results"
  find benchmarks/results -maxdepth 1 -newer "$RUN_DIR/start.stamp" -type f \
    \( -name 'train_speed_cuda_*' -o -name 'quality_gpu*' \) \
    -exec cp -v {} "$RUN_DIR/results/" \;
  echo "in $RUN_DIR/results:"
  ls -l "$RUN_DIR/results"
}

export DRY RUN_DIR START BUDGET PY
export -f time_left device_facts check_imports base_site_lines install_packages \
  cuda_tests notebooks quality speed collect_results

# ---- the run -----------------------------------------------------------------

step device 30 device_facts
cp "$RUN_DIR/device.log" "$RUN_DIR/device.txt"
step install 90 install_packages
if build/gpu-venv/bin/python -c "import torch" 2>/dev/null; then
  PY=$ROOT/build/gpu-venv/bin/python
else
  echo "== the venv cannot import torch: the steps use $BASE_PY"
fi
export PY
# neither is timed, so they share the machine (16 cores: 4 threads each)
GANCOURSE_THREADS=${GANCOURSE_THREADS:-4} step tests 180 cuda_tests &
GANCOURSE_THREADS=${GANCOURSE_THREADS:-3} step notebooks 240 notebooks &
wait
step quality 360 quality
if [ "$DRY" = 1 ]; then
  skip speed "dry run: train_speed.py would write benchmarks/results"
else
  step speed 200 speed
fi
step collect 30 collect_results

# ---- the summary and what comes back -------------------------------------------

write_summary() {
  local name text code seconds
  echo "# benchmarks/gpu/run.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Dry run: $DRY. Python: $PY. $(($(date +%s) - START)) s in all (budget $BUDGET s)."
  echo
  echo '```'
  grep -v '^|' "$RUN_DIR/device.txt" | grep -E 'python|CUDA|GPU|cores' | head -5
  echo '```'
  echo
  echo "| step | status | exit | seconds |"
  echo "|---|---|---|---|"
  while IFS=$'\t' read -r name text code seconds; do
    echo "| $name | $text | $code | $seconds |"
  done <"$STATUS"
  while IFS=$'\t' read -r name text code seconds; do
    case $text in ok | skipped*) continue ;; esac # a skip says why in the table
    printf '\n## %s: the last lines of %s.log\n\n```\n' "$name" "$name"
    tail -n 25 "$RUN_DIR/$name.log"
    echo '```'
  done <"$STATUS"
}

write_summary >"$RUN_DIR/summary.md"
tar -czf "$OUT/gpu-run.tar.gz" -C "$(dirname "$RUN_DIR")" "$(basename "$RUN_DIR")"
cp "$RUN_DIR/summary.md" "$OUT/"
[ -f "$RUN_DIR/notebooks/summary.md" ] && cp "$RUN_DIR/notebooks/summary.md" "$OUT/notebooks.md"
find "$RUN_DIR/results" -maxdepth 1 -type f \( -name '*.md' -o -name '*.png' \) \
  -exec cp {} "$OUT/" \;
echo
cat "$RUN_DIR/summary.md"
echo
echo "back in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
if cut -f2 "$STATUS" | grep -qvE '^(ok|skipped \()'; then exit 1; fi
