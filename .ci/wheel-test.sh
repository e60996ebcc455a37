#!/usr/bin/env bash
# The installed wheel, as a user gets it: build it, install it in a fresh venv OUTSIDE the repository,
# then list the presets (read from the wheel via importlib.resources) and train 1 digits epoch with it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel -q --no-deps -w "$work/dist" "$repo"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/simsiam_tui-*.whl
cd "$work"  # no checkout on the path: only the installed copy can answer
unset PYTHONPATH
out=$("$work/venv/bin/simsiam-tui" presets ls --json)
for name in simsiam no-stop-grad byol; do
    grep -q "\"$name\"" <<<"$out" || { echo "wheel: preset $name missing from 'presets ls'"; exit 1; }
done
"$work/venv/bin/python" - <<'PY'
import simsiam_tui.config.presets as p, sys
assert "site-packages" in str(p.SHIPPED_DIR), p.SHIPPED_DIR  # the wheel's copy, not a checkout's
print("presets from", p.SHIPPED_DIR)
PY
"$work/venv/bin/simsiam-tui" train --preset simsiam --scale digits --runs "$work/runs" \
    --set train.epochs=1 --set monitor.knn_every=1 --set train.device=cpu
run=$(ls "$work/runs")
grep -q '"state": "finished"' "$work/runs/$run/status.json" || { cat "$work/runs/$run/status.json"; exit 1; }
grep -q '"kind": *"eval"' "$work/runs/$run/events.jsonl" || { echo "wheel: no eval event"; exit 1; }
echo "wheel: presets ls and a 1-epoch digits run from the installed wheel passed"
