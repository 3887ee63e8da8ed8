"""The Verbatim chat UI: a Gradio app over rag's public API (run it with `python -m ui`)."""

import os

# Set before any module of this package imports gradio, which reads it at import time.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
