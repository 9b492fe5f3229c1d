#!/usr/bin/env bash
# Creates the virtualenv of Python peers (.venv at the top of the checkout)
# that the interop tests run. Re-run to update; it only installs what is
# missing. The tests find it through SDP_PYTHON, or .venv/bin/python.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${SDP_VENV:-$top/.venv}
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  echo "peers: creating $venv" >&2
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$top/scripts/requirements-peers.txt"
"$venv/bin/python" -c 'import katsdptelstate, numpy, rdbtools, aiokafka, msgpack_numpy; print("peers: katsdptelstate", katsdptelstate.__version__, "numpy", numpy.__version__, "aiokafka", aiokafka.__version__)' >&2
