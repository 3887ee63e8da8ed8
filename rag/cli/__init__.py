"""The `rag` command: main.py builds the parser; one module per command group."""
