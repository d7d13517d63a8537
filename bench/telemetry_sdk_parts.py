"""``python -m bench.diagnose sdk-parts`` under its former name."""

import sys

from bench.diagnose import main

if __name__ == "__main__":
    sys.exit(main(["sdk-parts", *sys.argv[1:]]))
