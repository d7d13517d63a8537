"""``python -m bench.diagnose telemetry`` under its former name."""

import sys

from bench.diagnose import main

if __name__ == "__main__":
    sys.exit(main(["telemetry", *sys.argv[1:]]))
