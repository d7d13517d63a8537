#!/usr/bin/env bash
# The main job: set up, then run the quickstart (GPT-2 via genkit, or $GENKIT_MODEL).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" all
exec "$root/.venv/bin/python" "$root/examples/quickstart.py" "$@"
