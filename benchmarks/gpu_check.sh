#!/usr/bin/env bash
# The CUDA paths in one run (about 6 minutes on one GPU, capped at 8): the tests marked `cuda`, the throughput
# benchmark at the CIFAR recipe with and without torch.compile, a 2-epoch CIFAR-shaped run through
# `simsiam-tui launch` (a fake CIFAR-10 folder in torchvision's pickled format), a one-process run under
# torchrun through `--gpus-per-run 1`, the GPU probe against the real NVML, and the GPU utilization in the
# run's `system` events. Ends with one summary of figures.
#
#   bash benchmarks/gpu_check.sh            # from the repository root
#
# Python: $PYTHON if set; else .venv/bin/python when it has torch with CUDA; else a venv of its own
# (.venv-gpu-check, `pip install '.[test]'`, as the README's install). Logs: $OUT or a temp folder.
# Without a GPU it says so in one line and exits 0.
set -uo pipefail

if [[ "${CUDA_VISIBLE_DEVICES-unset}" == "" || "${CUDA_VISIBLE_DEVICES-}" == "-1" ]] \
    || ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU visible (nvidia-smi finds none); nothing to check on this machine"
  exit 0
fi

cd "$(dirname "$0")/.."
REPO=$PWD
DEADLINE=$((SECONDS + 480))
LOG=${OUT:-$(mktemp -d -t gpu-check-XXXX)}
mkdir -p "$LOG"
echo "gpu_check: $(nvidia-smi -L | head -1); logs in $LOG"

has_cuda() { "$1" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; }
if [[ -n "${PYTHON-}" ]]; then
  PY=$PYTHON
elif [[ -x .venv/bin/python ]] && has_cuda .venv/bin/python && .venv/bin/python -c 'import simsiam_tui, pytest' 2>/dev/null; then
  PY=.venv/bin/python
else
  if [[ ! -x .venv-gpu-check/bin/python ]]; then
    python3 -m venv .venv-gpu-check || { echo "gpu_check: cannot create a venv"; exit 1; }
  fi
  .venv-gpu-check/bin/pip install -q '.[test]' >"$LOG/pip.log" 2>&1 || { echo "gpu_check: pip install failed, see $LOG/pip.log"; exit 1; }
  PY=.venv-gpu-check/bin/python
fi
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
BIN=$(dirname "$PY")
export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}
has_cuda "$PY" || { echo "gpu_check: $PY has no CUDA-enabled torch"; exit 1; }

FAILED=()
left() { echo $((DEADLINE - SECONDS)); }
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $LOG/NAME.log
  local name=$1 limit=$2; shift 2
  local budget; budget=$(left)
  ((limit > budget)) && limit=$budget
  if ((limit < 10)); then echo "  $name: skipped (out of time)"; FAILED+=("$name"); return 1; fi
  local t0=$SECONDS
  if timeout "$limit" "$@" >"$LOG/$name.log" 2>&1; then
    echo "  $name: ok ($((SECONDS - t0)) s)"
  else
    echo "  $name: FAILED ($((SECONDS - t0)) s), see $LOG/$name.log"; tail -5 "$LOG/$name.log" | sed 's/^/      /'
    FAILED+=("$name"); return 1
  fi
}

echo "1. tests marked cuda"
step tests 150 "$PY" -m pytest -m cuda -q -p no:cacheprovider tests

echo "2. throughput at the CIFAR recipe (ResNet-18, batch 512, bf16, channels_last)"
step throughput-eager 120 "$PY" benchmarks/throughput.py --device cuda --compile off --rounds 3
step throughput-compile 180 "$PY" benchmarks/throughput.py --device cuda --compile on --rounds 3

echo "3. a 2-epoch CIFAR-shaped run through simsiam-tui launch, and one under torchrun (--gpus-per-run 1)"
WORK=$(mktemp -d -t gpu-check-runs-XXXX)
"$PY" benchmarks/fake_cifar.py "$WORK/data" --per-batch 10000 --test 10000 >"$LOG/fake_cifar.log" 2>&1 || FAILED+=("fake-cifar")
export SIMSIAM_TUI_FAKE_CIFAR=1 PYTHONPATH=$REPO/benchmarks/fake_site:$PYTHONPATH  # accept the fake's checksums
cat >"$WORK/run_and_wait.sh" <<'SH'
# run_and_wait.sh ROOT EXTRA...: launch one simsiam run on GPU 0, follow it to its end, show it
root=$1; shift
"$BIN/simsiam-tui" launch --preset simsiam --scale cifar10 --runs "$root" --gpus 0 --follow "${SETS[@]}" "$@" || exit 1
"$BIN/simsiam-tui" runs show --runs "$root" --json "$(ls "$root" | head -1)"
SH
export BIN
export SETS_LINE="train.epochs=2 data.dir=$WORK/data monitor.knn_every=1 monitor.system_every_s=2"
sed -i '1a SETS=(); for kv in $SETS_LINE; do SETS+=(--set "$kv"); done' "$WORK/run_and_wait.sh"
step launch 150 bash "$WORK/run_and_wait.sh" "$WORK/launch"
export SIMSIAM_TUI_WORKER="$PY -m torch.distributed.run --standalone --nproc-per-node {nproc} -m simsiam_tui.train {run_dir}"
step torchrun 120 bash "$WORK/run_and_wait.sh" "$WORK/torchrun" --gpus-per-run 1
unset SIMSIAM_TUI_WORKER

echo "4. the GPU probe against the real NVML"
step probe 30 "$BIN/simsiam-tui" gpus --json

echo
"$PY" benchmarks/gpu_summary.py "$LOG" "$WORK"
rm -rf "$WORK"
if ((${#FAILED[@]})); then
  echo "gpu_check: FAILED: ${FAILED[*]} ($SECONDS s)"
  exit 1
fi
echo "gpu_check: all passed in $SECONDS s"
