#!/usr/bin/env bash
# Make .venv-octoprint (a separate virtualenv: OctoPrint's pins clash with the project's) with
# OctoPrint in it, for the service-marked hub integration test. Idempotent; safe to rerun.
#   scripts/ensure-octoprint.sh            # uses python3
#   PY=python3.11 scripts/ensure-octoprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-python3}"
VENV=.venv-octoprint
if [ -x "$VENV/bin/octoprint" ] && "$VENV/bin/python" -c "import octoprint" 2>/dev/null; then
    echo "OctoPrint present in $VENV: $("$VENV/bin/octoprint" --version 2>/dev/null || true)"
    exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "octoprint>=1.10"
"$VENV/bin/octoprint" --version
