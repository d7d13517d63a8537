#!/usr/bin/env bash
# The whole test suite: set up, then lint, type-check and run pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh dev
.venv/bin/ruff check genkit fakeprovider tests examples bench
.venv/bin/ruff format --check genkit fakeprovider tests examples bench
.venv/bin/mypy genkit tests bench fakeprovider examples
exec .venv/bin/python -m pytest "$@"
