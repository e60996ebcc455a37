#!/usr/bin/env bash
# The README's 3-seed tables: every SimSiam variant and the compared designs at the digits scale, SEEDS seeds
# each, then a linear evaluation of every finished run, then `runs compare --by variant --markdown`.
#
#   bash benchmarks/ablation_tables.sh [RUNS_DIR]        # default runs-tables (gitignored)
#
# Environment: SEEDS (3), EPOCHS (50, the digits scale's own), AT_ONCE (runs at a time: --per-gpu on a GPU, CPU
# slots without one; default 2), VARIANTS (presets, space-separated), GPUS (launch's --gpus; default all, or the CPU), SIMSIAM_TUI (the command).
# Prints the markdown table; the runs stay in RUNS_DIR for `runs ls`, `runs plot` and the app.
set -euo pipefail

ROOT=${1:-runs-tables}
ST=${SIMSIAM_TUI:-simsiam-tui}
SEEDS=${SEEDS:-3}
EPOCHS=${EPOCHS:-50}
AT_ONCE=${AT_ONCE:-2}
read -ra PRESETS <<<"${VARIANTS:-simsiam no-stop-grad no-predictor fixed-random-predictor asymmetric cross-entropy \
sg-encoder-mlp sg-after-encoder-two-mlps end-to-end memory-bank momentum byol vicreg barlow-twins}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # many small runs at once: one thread each
where=(--per-gpu "$AT_ONCE")
[[ -n "${GPUS-}" ]] && where+=(--gpus "$GPUS")

# shellcheck source=benchmarks/wait_all.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait_all.sh"

t0=$SECONDS
args=()
for p in "${PRESETS[@]}"; do args+=(--preset "$p"); done
"$ST" launch "${args[@]}" --seeds "$SEEDS" --scale digits --set "train.epochs=$EPOCHS" --runs "$ROOT" "${where[@]}" \
  >/dev/null
wait_all
echo "ablation_tables: ${#PRESETS[@]} variants x $SEEDS seeds trained in $((SECONDS - t0)) s" >&2

t1=$SECONDS
for id in $("$ST" runs ls --runs "$ROOT" --json | python3 -c '
import json, sys
print(" ".join(r["id"] for r in json.load(sys.stdin) if r["state"] == "finished" and not r["source_run"]))'); do
  "$ST" eval linear "$id" --runs "$ROOT" "${where[@]}" >/dev/null
done
wait_all
echo "ablation_tables: linear evaluations in $((SECONDS - t1)) s" >&2

"$ST" runs ls --runs "$ROOT"
"$ST" runs compare --by variant --markdown --runs "$ROOT"
