# Sourced by the table scripts: wait_all blocks until no run under $ROOT is queued, starting or running
# (as `$ST runs ls --json` reports them); ROOT and ST are the sourcing script's.
wait_all() {
  while "$ST" runs ls --runs "$ROOT" --json | python3 -c '
import json, sys
sys.exit(0 if any(r["state"] in ("queued", "starting", "running") for r in json.load(sys.stdin)) else 1)'; do
    sleep 5
  done
}
