"""load_data: CSV and NPZ files matched to a model's inputs and targets by name."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, EvaluationError, ShapeError

w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
MODEL = sg.Model(loss=(w1 * x1 + w2 * x2 + b - t) ** 2, params=[w1, w2, b], inputs=[x1, x2], targets=[t])
EXPECTED_X = np.array([[1.0, 2.0], [3.0, 4.0]])
EXPECTED_T = np.array([[0.5], [1.5]])


def check(X, T):
    for array, expected in ((X, EXPECTED_X), (T, EXPECTED_T)):
        assert array.dtype == np.float64 and array.flags.c_contiguous
        np.testing.assert_array_equal(array, expected)


def test_csv_columns_are_found_by_name_in_any_order_and_others_are_ignored(write):
    path = write("d.csv", "id,t, x2 ,note,x1\n7,0.5,2,a,1\n\n8,1.5,4,b,3\n")
    check(*sg.load_data(path, MODEL))


def test_csv_accepts_a_model_file_and_a_byte_order_mark(write):
    path = write("d.csv", "\ufeffx1,x2,t\n1,2,0.5\n3,4,1.5\n")
    model_file = sg.load_model(write("m.toml", '[model]\nparams = ["w"]\ninputs = ["x1", "x2"]\n'
                                               'targets = ["t"]\nloss = "(w*x1 + x2 - t)**2"\n'))
    X, T = sg.load_data(path, model_file)
    check(X, T)


@pytest.mark.parametrize(("text", "error", "message"), [
    ("x1,t\n1,2\n", ShapeError, "has no column 'x2'"),
    ("x1,x2,t\n1,2,abc\n", EvaluationError, "line 2, column 't': 'abc' is not a number"),
    ("x1,x2,t\n1,2,3\n1,,3\n", EvaluationError, "line 3, column 'x2': '' is not a number"),
    ("x1,x2,t\n1,nan,3\n", EvaluationError, "line 2, column 'x2': the value 'nan' is not finite"),
    ("x1,x2,t\n1,2,inf\n", EvaluationError, "column 't': the value 'inf' is not finite"),
    ("x1,x2,t\n1,2,3\n1,2\n", ShapeError, "line 3: 2 values, but the header names 3 columns"),
    ("x1,x2,t\n", ShapeError, "has no samples"),
    ("", ShapeError, "is empty; expected a header row"),
    ("x1,x2,x1,t\n1,2,3,4\n", ShapeError, "column 'x1' appears twice"),
])
def test_bad_csv_files_name_the_column_and_line(write, text, error, message):
    path = write("d.csv", text)
    with pytest.raises(error, match=message) as info:
        sg.load_data(path, MODEL)
    assert "d.csv" in str(info.value)


def test_npz_with_one_array_per_symbol(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, t=np.array([0.5, 1.5]), x1=np.array([1, 3]), x2=np.array([[2.0], [4.0]]),
             extra=np.zeros(5))
    check(*sg.load_data(path, MODEL))


def test_npz_with_x_and_t_arrays(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.asfortranarray(EXPECTED_X), T=EXPECTED_T[:, 0].astype(np.float32))
    check(*sg.load_data(path, MODEL))


@pytest.mark.parametrize(("arrays", "error", "message"), [
    ({"X": np.ones((2, 3)), "T": np.ones(2)}, ShapeError,
     r"array 'X' has shape \(2, 3\); expected \(n_samples, 2\)"),
    ({"X": np.ones((2, 2)), "T": np.ones(3)}, ShapeError, "different numbers of samples"),
    ({"X": np.array([[1.0, np.nan], [1, 1]]), "T": np.ones(2)}, EvaluationError,
     r"X\[:, 1\] \(x2\) has the non-finite value nan in sample 0"),
    ({"x1": np.ones(2), "x2": np.array([1.0, np.inf]), "t": np.ones(2)}, EvaluationError,
     "array x2 has the non-finite value inf in sample 1"),
    ({"x1": np.ones(2), "x2": np.ones((2, 2)), "t": np.ones(2)}, ShapeError, "array 'x2' has shape"),
    ({"X": np.ones((2, 2))}, ShapeError, r"expected arrays X \(inputs x1, x2\) and T \(targets t\)"),
    ({"x1": np.ones(2), "t": np.ones(2)}, ShapeError, "missing x2"),
    ({"X": np.array([["a", "b"]]), "T": np.ones(1)}, ShapeError, "array 'X' has dtype <U1; expected numbers"),
])
def test_bad_npz_files_name_the_array(tmp_path, arrays, error, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(error, match=message):
        sg.load_data(path, MODEL)


def test_npz_never_unpickles(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([[1, {}]], dtype=object), T=np.ones(1))
    with pytest.raises(DeclarationError, match="cannot be read without pickle"):
        sg.load_data(path, MODEL)


def test_wrong_file_wrong_format_and_data_free_models_are_refused(write, tmp_path):
    with pytest.raises(DeclarationError, match="not found"):
        sg.load_data(tmp_path / "missing.csv", MODEL)
    with pytest.raises(DeclarationError, match=r"unknown format '\.xlsx'; expected one of \.csv, \.npz"):
        sg.load_data(write("d.xlsx", "x"), MODEL)
    with pytest.raises(DeclarationError, match="not a readable .npz archive"):
        sg.load_data(write("d.npz", "not a zip"), MODEL)
    data_free = sg.Model(loss=(w1 - 1) ** 2, params=[w1])
    with pytest.raises(DeclarationError, match="no inputs or targets"):
        sg.load_data(write("d.csv", "x1\n1\n"), data_free)
