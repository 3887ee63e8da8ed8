from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sample_files import positioned_pdf

import rag
from rag.cli.main import main

FAKE = ["--model", "hashing-256"]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "tea.txt").write_text(
        "Green tea is made from unoxidised leaves of Camellia sinensis grown in Asia."
    )
    (folder / "coffee.md").write_text(
        "# Coffee\n\nCoffee beans are the roasted seeds of the Coffea plant in Ethiopia."
    )
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ingest_ask_search_stats_remove_round_trip(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "index")
    code, out, _ = run(capsys, "ingest", str(docs), "--index", index, *FAKE, "--json")
    assert code == 0 and json.loads(out)["summary"]["added"] == 2

    code, out, _ = run(capsys, "ask", "What are coffee beans?", "--index", index, *FAKE, "--json")
    answer = json.loads(out)
    assert code == 0 and answer["answered"]
    assert {"question", "answer", "answered", "citations", "passages", "query", "timings_ms"} <= set(answer)
    citation = answer["citations"][0]
    assert {"n", "source", "page", "start", "end", "quote"} <= set(citation)
    assert "Coffea" in citation["quote"]

    code, out, _ = run(capsys, "search", "green tea", "--index", index, *FAKE, "--json", "-k", "1")
    assert code == 0 and json.loads(out)[0]["source"].endswith("tea.txt")

    code, out, _ = run(capsys, "stats", "--index", index, *FAKE, "--json")
    assert json.loads(out)["documents"] == 2

    code, out, _ = run(capsys, "remove", "tea.txt", "--index", index, *FAKE)
    assert code == 0 and "removed" in out


def test_user_errors_print_one_line_and_exit_non_zero(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "index")
    run(capsys, "ingest", str(docs), "--index", index, *FAKE)
    code, _out, err = run(capsys, "remove", "nothing-like-this.txt", "--index", index, *FAKE)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run(capsys, "ask", "tea?", "--index", index, "--model", "hashing-128")
    assert code == 2 and "hashing-256" in err and "Traceback" not in err


def test_ingest_of_only_bad_files_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    code, out, _ = run(capsys, "ingest", str(tmp_path / "empty.txt"), "--index", str(tmp_path / "i"), *FAKE)
    assert code == 1 and "empty" in out


def test_console_script_runs_as_a_module(tmp_path: Path) -> None:
    index = str(tmp_path / "i")
    subprocess.run([sys.executable, "-m", "rag", "ingest", "--index", index, *FAKE, str(tmp_path / "i")])
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "hello?", "--index", index, *FAKE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert "ingest some documents first" in result.stdout


def test_bad_settings_are_user_errors_not_tracebacks(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "ingest", str(docs), "--index", str(tmp_path / "i"), *FAKE, "--chunk-size", "10"
    )
    assert code == 2 and "chunk_size" in err


def test_lone_surrogate_in_a_question_is_not_a_traceback(tmp_path: Path, docs: Path) -> None:
    index = str(tmp_path / "index")
    assert main(["ingest", str(docs), "--index", index, *FAKE]) == 0
    # An undecodable byte in argv arrives as a lone surrogate (surrogateescape).
    argv = [sys.executable, "-m", "rag", "ask", b"green tea\xff?", "--index", index, *FAKE]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr and b"Camellia" in result.stdout


def test_negative_k_is_a_one_line_error(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "index")
    run(capsys, "ingest", str(docs), "--index", index, *FAKE)
    for command in ("ask", "search"):
        code, out, err = run(capsys, command, "tea", "-k", "-3", "--index", index, *FAKE, "--json")
        assert code == 2 and err.startswith("error: k ") and err.count("\n") == 1 and not out


def test_output_into_a_closed_pipe_is_not_a_traceback(tmp_path: Path, docs: Path) -> None:
    index = str(tmp_path / "index")
    assert main(["ingest", str(docs), "--index", index, *FAKE]) == 0
    argv = [sys.executable, "-m", "rag", "stats", "--documents", "--index", index, *FAKE]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `rag stats | head` once head has exited
    error = process.stderr.read()
    process.wait(120)
    assert b"Traceback" not in error and b"BrokenPipe" not in error


def test_control_characters_in_file_names_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "red\x1b[31mname\nforged: line.txt").write_bytes(b"")
    code, out, _ = run(capsys, "ingest", str(folder), "--index", str(tmp_path / "index"), *FAKE)
    assert code == 1 and "\x1b" not in out
    assert "\\x1b[31mname\\nforged: line.txt" in out and len(out.strip().splitlines()) == 2


def test_bidirectional_controls_in_names_and_passages_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "evil\u202etxt.md").write_text(
        "Herons \u202egnitsen\u202c wade in the \u2067shallow\u2069 water."
    )
    index = str(tmp_path / "index")
    run(capsys, "ingest", str(folder), "--index", index, *FAKE)
    code, out, _ = run(capsys, "search", "herons wade", "--index", index, *FAKE)
    assert code == 0 and "Herons" in out
    assert not any(control in out for control in "\u202e\u202c\u2067\u2069")
    assert "\\u202egnitsen" in out and "evil\\u202etxt.md" in out


def test_optimize_rebuilds_the_vector_index_and_says_what_it_is(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "index")
    run(capsys, "ingest", str(docs), "--index", index, *FAKE)
    code, out, _ = run(capsys, "optimize", "--index", index, *FAKE)
    assert code == 0 and out.strip() == "vector index: exact, 2 vectors"
    code, out, _ = run(capsys, "stats", "--index", index, *FAKE)
    assert code == 0 and "vector_recall@10: 1.0" in out
    code, _, err = run(capsys, "optimize", "--index", str(tmp_path / "missing"), *FAKE)
    assert code == 2 and err.startswith("error: no index at") and err.count("\n") == 1


def test_optimize_reports_the_measured_recall_of_an_approximate_index(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(120):
        (docs / f"note{number}.txt").write_text(
            f"Note {number} is about harbour {number % 7} and lantern {number}."
        )
    monkeypatch.setenv("RAG_APPROXIMATE_ABOVE", "50")
    index = str(tmp_path / "index")
    run(capsys, "ingest", str(docs), "--index", index, *FAKE)
    code, out, _ = run(capsys, "optimize", "--index", index, *FAKE, "--json")
    described = json.loads(out)
    assert code == 0 and described["kind"] == "ivf-sq8" and described["vectors"] == 122
    assert 0.0 <= described["recall@10"] <= 1.0 and described["recall_queries"] > 0


@pytest.mark.parametrize(
    ("chunks", "seconds", "shown"),
    [(3, 10.0, "(0.3 chunks/s)"), (120, 4.0, "(30 chunks/s)"), (0, 2.0, "2.0s\n"), (5, 0.0, "0.0s\n")],
)
def test_ingest_summary_shows_a_slow_rate_with_a_decimal(chunks: int, seconds: float, shown: str) -> None:
    from rag.cli.documents import format_report

    report = rag.IngestReport((rag.FileResult("a.txt", "added", chunks),), chunks, seconds)
    assert shown in format_report(report) + "\n"


def test_optimize_embeds_the_sentences_of_documents_ingested_before_they_were_stored(
    tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    index = tmp_path / "index"
    run(capsys, "ingest", str(docs), "--index", str(index), *FAKE)
    database = index / "rag.sqlite"
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
        kept = connection.execute("SELECT text_hash, vector FROM sentence_vectors ORDER BY rowid").fetchall()
        connection.execute("DELETE FROM sentence_vectors")  # an index from before they were stored
    assert stored > 0
    code, out, _ = run(capsys, "stats", "--index", str(index), *FAKE)
    assert "documents_without_sentence_vectors: 2" in out and "`rag optimize` embeds them once" in out
    code, out, _ = run(capsys, "optimize", "--index", str(index), *FAKE)
    assert code == 0 and out.startswith(f"embedded {stored} sentences of 2 documents ingested before")
    with sqlite3.connect(database) as connection:
        again = connection.execute("SELECT text_hash, vector FROM sentence_vectors ORDER BY rowid").fetchall()
    assert sorted(again) == sorted(kept)  # the same sentences, the same vectors, as ingest stored
    code, out, _ = run(capsys, "optimize", "--index", str(index), *FAKE)
    assert code == 0 and out.strip() == "vector index: exact, 2 vectors"  # nothing left to fill
    code, out, _ = run(capsys, "stats", "--index", str(index), *FAKE)
    assert "documents_without_sentence_vectors: 0" in out and "rag optimize" not in out


def test_show_writes_the_page_with_the_highlight_the_api_draws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "bridge.pdf"
    pdf.write_bytes(positioned_pdf([[(72, 700, "F1", "The north bridge was repainted in October.")]]))
    index = str(tmp_path / "index")
    assert main(["ingest", str(pdf), "--index", index, *FAKE]) == 0
    out = tmp_path / "page.png"
    code, printed, _ = run(
        capsys, "show", "bridge.pdf", "--page", "1", "--highlight", "4:16", "--width", "500",
        "--out", str(out), "--index", index, *FAKE,
    )  # fmt: skip
    assert code == 0 and "wrote page 1" in printed
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        assert out.read_bytes() == base.page_image(str(pdf), 1, highlight=(4, 16), width=500)
    code, _, error = run(
        capsys, "show", "bridge.pdf", "--highlight", "16", "--out", str(out), "--index", index
    )
    assert code != 0 and "START:END" in error


# What `rag ask` must not load: the serving stack, token checks, sync, evaluation, progress bars,
# the LLM clients, the writer lock. Each costs a cold start tens of milliseconds (docs/performance.md).
NOT_FOR_ASKING = (
    "asyncio",
    "cryptography",
    "fastapi",
    "filelock",
    "jwt",
    "multiprocessing",
    "tqdm",
    "uvicorn",
    "importlib.metadata",
    "http.client",
    "rag.access.tokens",
    "rag.evaluation.runner",
    "rag.ingest.loaders",
    "rag.llm.client",
    "rag.serve.limits",
    "rag.serve.service",
    "rag.sources.sync",
    "rag.storage.copying",
)
ASK_AND_LIST_MODULES = """
import json, sys
from rag.cli.main import main
code = main(sys.argv[1:])
print(json.dumps(sorted(set(json.loads({not_for_asking!r})) & set(sys.modules))), file=sys.stderr)
sys.exit(code)
"""


def test_ask_loads_no_serving_sync_evaluation_or_progress_code(tmp_path: Path, docs: Path) -> None:
    index = str(tmp_path / "index")
    assert main(["ingest", str(docs), "--index", index, *FAKE, "--json"]) == 0
    code = ASK_AND_LIST_MODULES.format(not_for_asking=json.dumps(NOT_FOR_ASKING))
    asked = subprocess.run(
        [sys.executable, "-c", code, "ask", "What are coffee beans?", "--index", index, *FAKE],
        capture_output=True,
        text=True,
    )
    assert asked.returncode == 0 and "Coffea" in asked.stdout, asked.stderr
    assert json.loads(asked.stderr.strip().splitlines()[-1]) == []
