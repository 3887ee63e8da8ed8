"""The dependency rules of DESIGN.md, checked by parsing imports."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]
SINGLE_HOME = {
    "faiss": "rag/vectors.py",
    "sentence_transformers": "rag/embedding.py",
    "langchain_text_splitters": "rag/chunking.py",
}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every import statement in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_ui_and_eval_use_only_names_rag_exports() -> None:
    offenders = []
    for folder in ("ui", "eval"):
        for path in (ROOT / folder).rglob("*.py"):
            for module, names in imports(path):
                if module.startswith("rag.") or (module == "rag" and set(names) - set(rag.__all__)):
                    offenders.append(f"{path.relative_to(ROOT)}: {module} {names}")
    assert not offenders


def test_rag_never_imports_ui_or_eval_or_gradio() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "rag").rglob("*.py")
        for module, _ in imports(path)
        if module.split(".")[0] in {"ui", "eval", "gradio"}
    ]
    assert not offenders


def test_each_heavy_library_is_imported_in_one_rag_module() -> None:
    homes: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "rag").rglob("*.py"):
        for module, _ in imports(path):
            homes[module.split(".")[0]].add(str(path.relative_to(ROOT)))
    for library, home in SINGLE_HOME.items():
        assert homes[library] == {home}, library
    for library, files in homes.items():
        if library in {"numpy", "rag", "__future__"} or library in _stdlib():
            continue
        assert len(files) == 1, f"{library} is imported in {sorted(files)}"


def test_no_pickle_anywhere() -> None:
    for folder in ("rag", "ui", "eval"):
        for path in (ROOT / folder).rglob("*.py"):
            assert all(module.split(".")[0] != "pickle" for module, _ in imports(path)), path


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)
