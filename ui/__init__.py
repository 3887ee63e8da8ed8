"""The Verbatim chat UI: a Gradio app over rag's public API (run it with `python -m ui`)."""

from ui import security

# Before any module of this package imports gradio, which reads some of them at import time.
IGNORED_GRADIO_VARIABLES = security.pin_gradio_environment()
