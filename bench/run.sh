#!/usr/bin/env bash
# Install what the benchmark needs (bench-only, nothing here is a runtime dependency), then run it.
#   bench/run.sh            full run (~10 minutes), writes bench/RESULTS.md and bench/results.png
#   bench/run.sh --quick    ~1.5 minute smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

if ! command -v wrk >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null || echo "bench: no wrk; falling back to the asyncio load generator" >&2
fi
# The measured server and the harness share the project's environment; these are bench-only.
"$PY" -m pip install -q -e '.[test]' matplotlib uvloop py-spy pyinstrument  # test: the contract suite is timed too
if [ ! -x bench/.node/node_modules/.bin/prism ]; then
  npm install --prefix bench/.node --no-audit --no-fund @stoplight/prism-cli >/dev/null \
    || echo "bench: Prism did not install; it will be reported as not measured" >&2
fi
# connexion brings its own jsonschema/starlette pins: keep it in its own venv.
if [ ! -x bench/.venv/bin/python ]; then
  "$PY" -m venv bench/.venv
fi
bench/.venv/bin/python -c "import connexion, jsf, uvicorn" 2>/dev/null \
  || bench/.venv/bin/pip install -q "connexion[uvicorn,mock]==3.3.0" pyyaml \
  || echo "bench: connexion did not install; it will be reported as not measured" >&2
exec "$PY" -m bench "$@"
