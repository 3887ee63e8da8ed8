"""FAISS kinds: exact and IVF with 8-bit codes; adding, removing, saving, searching."""

from __future__ import annotations

import numpy as np
import pytest

from rag.storage.vectors import ann


def unit_rows(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def filled(kind: str, count: int = 2_000, dimension: int = 32) -> ann.Index:
    vectors = unit_rows(count, dimension)
    index = ann.new_index(kind, dimension, ann.list_count(count) if kind == ann.IVF else 0)
    if ann.needs_training(index):
        ann.train(index, vectors)
    ann.add(index, np.arange(100, 100 + count), vectors)
    return index


def test_list_count_grows_with_the_square_root_but_never_past_what_can_be_trained() -> None:
    assert ann.list_count(1_000_000) == 2048
    assert ann.list_count(100_000) == 512
    assert ann.list_count(2_000) == 32  # 2000 / 39 vectors per list allows 51
    assert ann.list_count(10) == 1


@pytest.mark.parametrize("kind", [ann.EXACT, ann.IVF])
def test_removed_vectors_are_not_found_and_absent_ids_are_ignored(kind: str) -> None:
    index = filled(kind)
    query = unit_rows(2_000)[:1]
    ann.set_probes(index, 32)
    assert ann.search(index, query, 1)[1][0, 0] == 100
    assert ann.remove(index, [100, 5, 7]) == 1
    assert 100 not in ann.search(index, query, 10)[1][0]
    assert index.ntotal == 1_999


def test_a_saved_ivf_index_keeps_its_probes_and_can_still_remove_by_id() -> None:
    index = filled(ann.IVF)
    ann.set_probes(index, 8)
    restored = ann.from_bytes(ann.to_bytes(index))
    assert ann.kind_of(restored) == ann.IVF and ann.probes_of(restored) == 8
    assert ann.remove(restored, [101, 102]) == 2 and restored.ntotal == 1_998


def test_bytes_that_are_not_an_index_are_a_value_error() -> None:
    with pytest.raises(ValueError):
        ann.from_bytes(b"not a faiss index at all")


def test_eight_bit_codes_take_a_quarter_of_the_memory_of_floats() -> None:
    exact, approximate = filled(ann.EXACT, dimension=384), filled(ann.IVF, dimension=384)
    assert ann.memory_bytes(approximate) < 0.3 * ann.memory_bytes(exact)
