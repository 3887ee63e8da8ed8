"""python -m rag: the same as the `rag` command."""

import sys

from rag.cli.main import main

# Guarded: a child process that imports the main module must not run the command again.
if __name__ == "__main__":
    sys.exit(main())
