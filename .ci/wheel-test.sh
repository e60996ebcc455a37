#!/usr/bin/env bash
# The installed wheel, as a user gets it: build it, install it in a fresh venv OUTSIDE the repository,
# then list the presets (read from the wheel via importlib.resources) and train 1 digits epoch with it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel -q --no-deps -w "$work/dist" "$repo"
python3 -m venv "$work/venv"
if python3 -c "import torch, torchvision" 2>/dev/null; then
    # Under .ci/run: the dependencies come from CI's venv through a .pth file (torch is gigabytes and was
    # just installed there); the package itself comes only from the wheel, which sits first on sys.path.
    deps=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # (the .pth comes after the install: pip would otherwise see CI's own copy of the package as installed)
    "$work/venv/bin/pip" install -q --no-deps "$work"/dist/simsiam_tui-*.whl
    echo "$deps" >"$site/zz_ci_dependencies.pth"
else
    "$work/venv/bin/pip" install -q "$work"/dist/simsiam_tui-*.whl
fi
cd "$work"  # no checkout on the path: only the installed copy can answer
unset PYTHONPATH
out=$("$work/venv/bin/simsiam-tui" presets ls --json)
for name in simsiam no-stop-grad byol; do
    grep -q "\"$name\"" <<<"$out" || { echo "wheel: preset $name missing from 'presets ls'"; exit 1; }
done
"$work/venv/bin/python" - <<'PY'
import simsiam_tui.config.presets as p, sys
assert str(p.SHIPPED_DIR).startswith(sys.prefix), p.SHIPPED_DIR  # the wheel's own copy in this venv
print("presets from", p.SHIPPED_DIR)
PY
"$work/venv/bin/simsiam-tui" train --preset simsiam --scale digits --runs "$work/runs" \
    --set train.epochs=1 --set monitor.knn_every=1 --set train.device=cpu
run=$(ls "$work/runs")
grep -q '"state": "finished"' "$work/runs/$run/status.json" || { cat "$work/runs/$run/status.json"; exit 1; }
grep -q '"kind": *"eval"' "$work/runs/$run/events.jsonl" || { echo "wheel: no eval event"; exit 1; }
echo "wheel: presets ls and a 1-epoch digits run from the installed wheel passed"
