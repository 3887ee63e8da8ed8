"""python -m rag: the same as the `rag` command."""

import sys

from rag.cli.main import main

sys.exit(main())
