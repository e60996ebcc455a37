#!/usr/bin/env bash
# The README's claims table ("The seed's notes, claim by claim"): each claim's preset and the rows it is judged
# against, SEEDS seeds each at the digits scale, BYOL at a constant m = 0, 0.9, 0.99; then a linear evaluation of
# every finished run and `runs compare --by variant,method.byol.base_momentum --markdown`.
#
#   bash benchmarks/seed_claims.sh [RUNS_DIR]        # default runs-claims
#
# Environment: SEEDS (3), EPOCHS (50, the digits scale's own), AT_ONCE (runs at a time; default 2), GPUS (launch's
# --gpus; default all, or the CPU), SIMSIAM_TUI (the command). Prints the markdown table; the runs stay in RUNS_DIR.
set -euo pipefail

ROOT=${1:-runs-claims}
ST=${SIMSIAM_TUI:-simsiam-tui}
SEEDS=${SEEDS:-3}
EPOCHS=${EPOCHS:-50}
AT_ONCE=${AT_ONCE:-2}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # small runs side by side: one thread each
common=(--seeds "$SEEDS" --scale digits --set "train.epochs=$EPOCHS" --runs "$ROOT" --per-gpu "$AT_ONCE")
[[ -n "${GPUS-}" ]] && common+=(--gpus "$GPUS")

# shellcheck source=benchmarks/wait_all.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait_all.sh"

t0=$SECONDS
args=()
for p in simsiam no-stop-grad no-stop-grad-half no-predictor asymmetric-no-predictor fixed-random-predictor memory-bank; do
  args+=(--preset "$p")
done
"$ST" launch "${args[@]}" "${common[@]}" >/dev/null
"$ST" launch --preset byol-m0 --sweep method.byol.base_momentum=0,0.9,0.99 "${common[@]}" >/dev/null
wait_all
echo "seed_claims: trained in $((SECONDS - t0)) s" >&2

t1=$SECONDS
for id in $("$ST" runs ls --runs "$ROOT" --json | python3 -c '
import json, sys
print(" ".join(r["id"] for r in json.load(sys.stdin) if r["state"] == "finished" and not r["source_run"]))'); do
  "$ST" eval linear "$id" --runs "$ROOT" --per-gpu "$AT_ONCE" ${GPUS:+--gpus "$GPUS"} >/dev/null
done
wait_all
echo "seed_claims: linear evaluations in $((SECONDS - t1)) s" >&2

"$ST" runs compare --by variant,method.byol.base_momentum --markdown --runs "$ROOT"
