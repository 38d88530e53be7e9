"""Model files: the examples load, the seed 003 network round-trips, training runs,
and every malformed file is refused with a message naming the file and the key."""

import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.cli.demo import seed003_network
from symgrad.errors import DeclarationError, ParseError
from symgrad.files import FUNCTIONS, ModelFile
from symgrad.files import modelfile as modelfile_module

from .conftest import MODELS, ROOT


def test_the_logistic_example_declares_everything():
    mf = sg.load_model(MODELS / "logistic.toml")
    assert isinstance(mf, ModelFile) and isinstance(mf.model, sg.Model)
    w1, w2, b, x1, x2, t = (mf.symbols[n] for n in ("w1", "w2", "b", "x1", "x2", "t"))
    z = w1 * x1 + w2 * x2 + b
    assert list(mf.definitions) == ["z", "p"] and mf.definitions["p"] == sg.sigmoid(z)
    assert mf.names == {z: "z", sg.sigmoid(z): "p"}
    assert mf.model.loss == sg.losses.binary_cross_entropy(sg.sigmoid(z), t)
    assert mf.model.regularizer == sg.losses.l2_penalty([w1, w2], 1e-3)
    assert mf.model.outputs == (sg.sigmoid(z),)
    assert mf.model.params == (w1, w2, b) and mf.model.inputs == (x1, x2) and mf.model.targets == (t,)
    assert mf.data == MODELS / "logistic.csv"                  # relative to the model file
    assert mf.optimizer == sg.optim.Adam(lr=0.05)
    assert mf.schedule == sg.schedules.inverse_time(0.001)
    assert mf.fit_settings == {"epochs": 20, "batch_size": 32, "seed": 0}
    assert mf.x0 == {w1: 0.0, w2: 0.0, b: 0.0}
    assert mf.name == "logistic regression"


def test_the_python_example_declares_the_same_model():
    toml, python = sg.load_model(MODELS / "logistic.toml"), sg.load_model(MODELS / "logistic_model.py")
    assert python.model.loss == toml.model.loss
    assert python.model.regularizer == toml.model.regularizer
    assert python.model.outputs == toml.model.outputs
    assert python.training_arguments() == toml.training_arguments()
    assert python.x0 == toml.x0 and python.data == toml.data
    assert python.name == "Logistic regression as a Python model file."


def test_seed003_network_round_trips_with_the_same_gradient():
    reference, point = seed003_network()
    mf = sg.load_model(MODELS / "seed003.toml")
    assert mf.model.loss == reference.loss
    assert mf.model.params == reference.params
    values = mf.model.program.evaluate(point)
    expected = reference.program.evaluate(point)
    for i in range(reference.n_params):
        assert values["grad", 0, i] == expected["grad", 0, i]      # exact rationals
    # the file's initial values and data file are the notes' point
    assert {str(k): v for k, v in mf.x0.items()} == {str(k): float(point[k]) for k in reference.params}
    X, T = mf.load_data()
    np.testing.assert_array_equal(X, [[0.35, 0.9]])
    np.testing.assert_array_equal(T, [[0.5]])


def test_the_rosenbrock_example_is_data_free():
    mf = sg.load_model(MODELS / "rosenbrock.toml")
    x, y = mf.symbols["x"], mf.symbols["y"]
    assert mf.model.loss == (1 - x) ** 2 + 100 * (y - x**2) ** 2
    assert mf.data is None and mf.x0 == {x: -1.5, y: 2.0}
    assert mf.fit_settings == {"max_iter": 20000, "tol": 1e-8}


def test_logistic_model_file_trains_with_sg_fit_on_its_csv():
    mf = sg.load_model(MODELS / "logistic.toml")
    X, T = mf.load_data()
    assert X.shape == (200, 2) and T.shape == (200, 1)
    res = sg.fit(mf.model, X, T, **{**mf.training_arguments(), "epochs": 3}, theta0=mf.x0)
    assert res.reason == "max_epochs"
    assert res.history.loss[-1] < np.log(2)            # below the loss of theta = 0
    # run() does the same from the file's own settings
    again = mf.run(epochs=3)
    np.testing.assert_array_equal(again.theta, res.theta)
    python = sg.load_model(MODELS / "logistic_model.py").run(epochs=3)
    np.testing.assert_array_equal(python.theta, res.theta)


def test_run_calls_minimize_for_data_free_objectives(monkeypatch):
    seen = {}
    monkeypatch.setattr(modelfile_module, "minimize", lambda model, x0, **kw: seen.update(x0=x0, **kw))
    mf = sg.load_model(MODELS / "rosenbrock.toml")
    mf.run(max_iter=5)
    assert seen == {"x0": mf.x0, "optimizer": sg.optim.Adam(lr=0.01), "max_iter": 5, "tol": 1e-8}


def test_run_of_a_data_free_objective_needs_initial_values(write):
    mf = sg.load_model(write("m.toml", '[model]\nparams = ["x"]\nloss = "x**2"\n'))
    with pytest.raises(DeclarationError, match=r"add an \[init\] table or pass x0"):
        mf.run()


GOOD = """
[model]
params = ["w", "b"]
inputs = ["x"]
targets = ["t"]
loss = "squared_error(w*x + b, t)"
"""


@pytest.mark.parametrize(("text", "error", "message"), [
    ("[model]\nparams = ['w']\n", DeclarationError, r"m\.toml \[model\]: no loss"),
    ("[data]\npath = 'd.csv'\n", DeclarationError, r"no \[model\] table"),
    (GOOD.replace("w*x + b", "w*x + q"), ParseError,
     r"\[model\] loss: unknown name 'q'; declared symbols are w, b, x, t"),
    (GOOD + "[define]\nz = 'w*y'\n", ParseError, r"\[define\] z: unknown name 'y'"),
    (GOOD + "[define]\nz = 'u + 1'\nu = 'w*x'\n", ParseError, r"\[define\] z: unknown name 'u'"),
    (GOOD + "[define]\nw = 'x'\n", DeclarationError, r"\[define\] w: 'w' is already a declared symbol"),
    (GOOD + "[define]\nexp = 'x'\n", DeclarationError, r"\[define\]: 'exp' is the name of a function"),
    (GOOD + "[define]\n'a b' = 'x'\n", DeclarationError, r"'a b' is not a valid name"),
    (GOOD.replace('"squared_error(w*x + b, t)"', '"__import__(\'os\').system(\'echo hi\')"'), ParseError,
     r"\[model\] loss: attribute access '\.system' is not allowed"),
    (GOOD.replace('"squared_error(w*x + b, t)"', "3"), DeclarationError,
     r"\[model\] loss must be an expression string, got an integer: 3"),
    (GOOD + "[optimizer]\nname = 'adamm'\n", DeclarationError, r"\[optimizer\]: unknown optimizer 'adamm'"),
    (GOOD + "[optimizer]\nlr = 0.1\n", DeclarationError, r"\[optimizer\]: name must be the optimizer's name"),
    (GOOD + "[optimizer]\nname = 'Adam'\nlearning_rate = 0.1\n", DeclarationError,
     r"\[optimizer\]: Adam has no option 'learning_rate'; its options are lr, betas"),
    (GOOD + "[optimizer]\nname = 'Adam'\nlr = '0.1'\n", DeclarationError,
     r"\[optimizer\] lr must be a number, got a string"),
    (GOOD + "[optimizer]\nname = 'Adam'\nbetas = [0.9]\n", DeclarationError,
     r"\[optimizer\] betas must be a list of 2 numbers"),
    (GOOD + "[optimizer]\nname = 'momentum'\nnesterov = 1\n", DeclarationError,
     r"\[optimizer\] nesterov must be true or false"),
    (GOOD + "[optimizer]\nname = 'Adam'\nlr = -1\n", DeclarationError,
     r"\[optimizer\]: Adam: lr must be a finite number >= 0"),
    (GOOD + "[schedule]\nname = 'cosine'\n", DeclarationError, r"\[schedule\]: unknown schedule 'cosine'"),
    (GOOD + "[schedule]\nname = 'exponential'\n", DeclarationError, r"schedule 'exponential' needs k"),
    (GOOD + "[schedule]\nname = 'step'\nstep_size = 2.5\n", DeclarationError,
     r"\[schedule\] step_size must be an integer"),
    (GOOD + "[schedule]\nname = 'step'\nsize = 2\n", DeclarationError,
     r"schedule 'step' has no option 'size'"),
    (GOOD + "[data]\npath = 'missing.csv'\n", DeclarationError,
     r"\[data\] path: data file 'missing.csv' not found"),
    (GOOD + "[data]\nfile = 'd.csv'\n", DeclarationError, r"\[data\]: unknown key 'file'; expected path"),
    (GOOD + "[train]\nepoch = 3\n", DeclarationError, r"\[train\]: unknown setting 'epoch'"),
    (GOOD + "[train]\noptimizer = 'adam'\n", DeclarationError,
     r"unknown setting 'optimizer' \(the optimizer has its own table: \[optimizer\]\)"),
    (GOOD + "[train]\nbatch_size = 0\n", DeclarationError, r"\[train\] batch_size must be an integer >= 1"),
    (GOOD + "[train]\ntol = -1.0\n", DeclarationError, r"\[train\] tol must be a finite number >= 0"),
    (GOOD + "[train]\nshuffle = 'yes'\n", DeclarationError, r"\[train\] shuffle must be true or false"),
    (GOOD + "[init]\nw = 1.0\n", DeclarationError, r"\[init\]: no initial value for b"),
    (GOOD + "[init]\nw = 1.0\nb = 0.0\nx = 2.0\n", DeclarationError, r"\[init\]: x is not a parameter"),
    (GOOD + "[init]\nw = 'one'\nb = 0.0\n", DeclarationError, r"\[init\] w must be a finite number"),
    (GOOD + "[optimiser]\nname = 'Adam'\n", DeclarationError,
     r"unknown table 'optimiser'; expected one of model"),
    (GOOD.replace("loss =", "los = 1\nloss ="), DeclarationError, r"\[model\]: unknown key 'los'"),
    (GOOD.replace('inputs = ["x"]', 'inputs = "x"'), DeclarationError,
     r"\[model\] inputs must be a list of names"),
    (GOOD.replace('inputs = ["x"]', 'inputs = ["w"]'), DeclarationError,
     r"\[model\] inputs: 'w' is declared more than once"),
    (GOOD.replace('params = ["w", "b"]', 'params = ["w", "E"]'), DeclarationError,
     r"\[model\] params: 'E' is the name of a constant"),
    (GOOD.replace('params = ["w", "b"]', 'params = []'), DeclarationError, "declare at least one parameter"),
    (GOOD + "regularizer = 'x**2'\n", DeclarationError, r"\[model\]: the regularizer depends on x"),
    (GOOD + "outputs = ['t']\n", DeclarationError, r"\[model\]: output t uses t"),
    ("[model]\nparams = ['x']\nloss = 'x**2'\n[train]\nepochs = 3\n", DeclarationError,
     r"\[train\] epochs: this model has no inputs or targets"),
    ("[model]\nparams = ['x']\nloss = 'x**2'\n[data]\npath = 'm.toml'\n", DeclarationError,
     r"\[data\]: this model has no inputs or targets"),
    ("[model\nparams = ['x']\n", ParseError, r"m\.toml: not valid TOML"),
    ("model = 3\n", DeclarationError, r"'model' must be a table \[model\]"),
])
def test_bad_model_files_name_the_file_and_the_key(write, text, error, message):
    path = write("m.toml", text)
    with pytest.raises(error, match=message) as info:
        sg.load_model(path)
    assert "m.toml" in str(info.value)


def test_missing_or_unknown_model_files(tmp_path, write):
    with pytest.raises(DeclarationError, match="model file .*nothere.toml not found"):
        sg.load_model(tmp_path / "nothere.toml")
    with pytest.raises(DeclarationError, match=r"expected a \.toml or \.py file, got '\.yaml'"):
        sg.load_model(write("m.yaml", "x"))


GOOD_PY = "import sympy as sp, symgrad as sg\nx = sp.Symbol('x')\nmodel = sg.Model(x**2, [x])\n"


@pytest.mark.parametrize(("text", "message"), [
    ("x = 1\n", r"must define model = sg.Model\(...\), got nothing"),
    ("model = 3\n", r"must define model = sg.Model\(...\), got an integer"),
    (GOOD_PY, None),
    (GOOD_PY + "optimizer = 'adam'\n", "optimizer must be a symgrad.optim optimizer"),
    (GOOD_PY + "fit_settings = {'epochs': 2}\n", r"fit_settings epochs: this model has no inputs"),
    (GOOD_PY + "x0 = {'y': 1.0}\n", r"x0: y is not a parameter; the parameters are x"),
    (GOOD_PY + "x0 = [1.0]\n", r"x0 must be a dict"),
    (GOOD_PY + "data = 'none.csv'\n", "data file .*none.csv not found"),
])
def test_python_model_files_are_checked(write, text, message):
    path = write("m.py", text)
    if message is None:
        assert sg.load_model(path).model.params == (sp.Symbol("x"),)
        return
    with pytest.raises(DeclarationError, match=message):
        sg.load_model(path)


def test_model_files_accept_multiline_expressions_and_comments(write):
    mf = sg.load_model(write("m.toml", '[model]\nparams = ["a", "b"]  # two\nloss = """\n  (a - 1)**2\n'
                                       '  + (b + 2)**2\n"""\n'))
    a, b = mf.symbols["a"], mf.symbols["b"]
    assert mf.model.loss == (a - 1) ** 2 + (b + 2) ** 2


def test_definitions_reused_in_deep_networks_stay_cheap(write):
    # each unit uses every unit of the layer below: a small DAG, an exponentially larger tree
    lines, params, below = [], [], ["x1", "x2"]
    for layer in range(4):
        units = []
        for j in range(4):
            weights = [f"w{layer}{j}{i}" for i in range(len(below))]
            params += weights
            terms = " + ".join(f"{w}*{u}" for w, u in zip(weights, below, strict=True))
            lines.append(f'h{layer}{j} = "tanh({terms})"')
            units.append(f"h{layer}{j}")
        below = units
    text = (f'[model]\nparams = {params}\ninputs = ["x1", "x2"]\ntargets = ["t"]\n'
            f'loss = "squared_error({" + ".join(below)}, t)"\n[define]\n' + "\n".join(lines) + "\n")
    mf = sg.load_model(write("deep.toml", text.replace("'", '"')))
    assert mf.model.n_params == 2 * 4 + 3 * 16


def test_constant_definitions_cannot_grow_exponentially(write):
    lines = ["c0 = 'sin(1)'"] + [f"c{k} = 'sin(c{k - 1}) + cos(c{k - 1})'" for k in range(1, 40)]
    path = write("m.toml", "[model]\nparams = ['w']\nloss = 'w**2*c39'\n[define]\n" + "\n".join(lines) + "\n")
    message = r"\[define\] c\d+: arithmetic gives a constant expression of \d+ nodes \(at most 1000\)"
    with pytest.raises(ParseError, match=message):
        sg.load_model(path)


def test_the_docs_show_the_logistic_example_verbatim_and_every_function():
    text = (ROOT / "docs" / "model-files.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert (MODELS / "logistic.toml").read_text() in blocks
    for name in FUNCTIONS:
        assert f"`{name}" in text, name
