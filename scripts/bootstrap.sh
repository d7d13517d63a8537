#!/usr/bin/env bash
# Create .venv and install genkit with the given extras, once per pyproject change.
# Usage: scripts/bootstrap.sh EXTRAS   (e.g. "local" or "dev")
#
# torch is pinned through constraints.txt: an unpinned "torch" can pull a multi-GB
# build the machine does not need, and one pinned release keeps CI reproducible.
set -euo pipefail
extras="${1:-dev}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.genkit-installed-$extras"
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$root/constraints.txt" -e "$root[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -c "import genkit" # fail here, loudly, if the install did not work
  echo "$want" > "$stamp"
fi
