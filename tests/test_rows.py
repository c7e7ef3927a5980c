"""Rows of a vector file read on demand (index/rows.py): the same values as the array,
however they are indexed, and a clear error outside it."""

import numpy as np
import pytest

from index.rows import Rows


@pytest.fixture()
def saved(tmp_path):
    matrix = np.random.default_rng(0).standard_normal((1000, 24)).astype(np.float32)
    np.save(tmp_path / "v.npy", matrix)
    return matrix, Rows(tmp_path / "v.npy")


def test_rows_read_as_the_array_is_indexed(saved):
    matrix, rows = saved
    assert len(rows) == 1000 and rows.shape == (1000, 24) and rows.dtype == np.float32
    ids = np.array([999, 0, 17, 17, 512])
    assert np.array_equal(rows[ids], matrix[ids])
    assert np.array_equal(rows[3], matrix[3]) and np.array_equal(rows[-1], matrix[-1])
    assert np.array_equal(rows[10:20], matrix[10:20]) and rows[5:5].shape == (0, 24)
    assert np.array_equal(rows[0:9:3], matrix[0:9:3])
    assert rows[np.array([], dtype=np.int64)].shape == (0, 24)


@pytest.mark.parametrize("key", [1000, np.array([3, 1000]), np.array([-1])])
def test_a_row_outside_the_file_is_an_index_error(saved, key):
    _, rows = saved
    with pytest.raises(IndexError, match="of 1000"):
        rows[key]


def test_a_file_that_is_not_a_matrix_is_refused(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="not a 2-D"):
        Rows(tmp_path / "flat.npy")
