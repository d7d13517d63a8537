"""``python -m bench.diagnose calls`` under its former name."""

import sys

from bench.diagnose import main

if __name__ == "__main__":
    sys.exit(main(["calls", *sys.argv[1:]]))
