"""mlp_digits: training samples per second of ``sg.fit``, a 64-32-10 MLP on the digits, Adam, mini-batches.

scikit-learn's bundled 8x8 digits (pixels / 16, one-hot targets),
``train_test_split(test_size=0.2, random_state=0)``: 1,437 training and 360
test rows. A 64-32-10 network with tanh hidden units and softmax
cross-entropy on the logits, the mean over each mini-batch of 32 rows,
torch's Adam (``lr=1e-3``, ``eps=1e-8``), 20 epochs in float64
(``benchmarks/baselines/mlp_digits.py``). Every peer starts from the same
``theta``, drawn once by ``model.init_params(seed=0)`` and handed to it, and
visits the rows in order without shuffling, so every peer takes the same 900
steps (an epoch is 44 batches of 32 and one of 29):

- **symgrad fit**: ``sg.nn.mlp([64, 32, 10], activation="tanh")`` with
  ``sg.nn.cross_entropy``; ``sg.fit(model, X, Y, optimizer=sg.optim.Adam(lr=1e-3),
  batch_size=32, epochs=20, shuffle=False, theta0=theta0)``, which runs the
  steps inside one compiled function; **symgrad python**: the same with
  ``fused=False``;
- **numba BLAS**: forward, backward and Adam written by hand in one ``@njit``
  function that runs all epochs, ``np.dot`` (BLAS) for the five matrix products
  of a batch, loops for the rest (``benchmarks/baselines/numba_train.py``);
- **numpy**: the same step as array expressions, the loop in Python;
- **torch**: ``nn.Linear`` layers, ``cross_entropy`` and ``torch.optim.Adam``,
  the loop in Python;
- **jax jit-step**: an Adam step on ``jax.value_and_grad`` of the batch loss,
  jitted, called once per batch from Python (two compilations: 32 and 29 rows);
- **jax scan**: the whole training in one jitted call: per epoch a ``lax.scan``
  over the 44 full batches (stacked into a ``(44, 32, 64)`` array) followed by
  the step on the 29-row tail, epochs in ``lax.fori_loop``.

Every peer computes each batch's loss as well as its gradient (symgrad records
it in the history). The whole workload is skipped, with a message, when
scikit-learn is not installed; a peer whose library is missing is skipped with
an install hint. Timing is as in ``logreg``: a fresh process per peer and
repeat, one thread for every library's pool (XLA's included), compiling and a
first 1-epoch training before any clock runs, samples/s = 20 x 1,437 over the
seconds inside the training loop only (for symgrad ``FitResult.elapsed``),
"overhead ms" what each training call cost on top, runs of at least 0.5 s
(``--quick``: 2 epochs, runs of 0.1 s), up to 3 per process, 3 repeats, medians.

**Answers.** Each peer's ``theta`` after 1 epoch ("err check") and after 20
("err end") must agree with symgrad fit's to 1e-10 relative (largest
difference over the largest entry). The peers sum in different orders, so
they differ by rounding, and Adam does not amplify it over 900 steps: the
measured differences are a few 1e-15, and 1e-10 leaves room for other BLAS
libraries while still catching a wrong step, batch order or bias correction,
each of which moves ``theta`` by 1e-4 or more. symgrad python must equal symgrad
fit bit for bit. "test acc" is the accuracy of each peer's final ``theta`` on
the 360 test rows (numpy forward pass): it must be within one test row of
symgrad fit's, and symgrad fit's at least 0.95 after the full 20 epochs.
Targets: symgrad fit at least as fast as jax scan, and at least 1.66 times numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import training
from ..baselines.mlp_digits import BATCH, PEERS, SIZES, SKLEARN_HINT, accuracy, load, model
from ..flops import FlopCount
from ..harness import Settings

TITLE = ("mlp_digits: 64-32-10 tanh MLP on digits (1,437 training rows), Adam, mini-batch 32, 20 epochs, "
         "samples/s (float64)")
EPOCHS, QUICK_EPOCHS = 20, 2
CHECK_EPOCHS = 1
REFERENCE = "symgrad fit"
TOLERANCES = {"check": 1e-10, "end": 1e-10}
EXACT = ("symgrad python",)
TARGETS = (training.Target("symgrad fit", "jax scan", 1.0), training.Target("symgrad fit", "numpy", 1.66))
#: Accuracy the reference must reach after the full ``EPOCHS``.
MIN_ACCURACY = 0.95
MIN_RUN_S, QUICK_MIN_RUN_S = 0.5, 0.1
RUNS_PER_PROCESS = 3
BUDGET_S = 10.0
#: FLOPs of one Adam update per parameter: m (3), v (4), square root, divide by sqrt(1 - b2**t),
#: add eps, divide m by that, times lr / (1 - b1**t), subtract.
ADAM_FLOPS = 13

__all__ = ["PEERS", "SKLEARN_HINT", "run", "flops_per_sample"]


def run(settings: Settings, epochs: int | None = None, check_epochs: int = CHECK_EPOCHS,
        peers: Sequence[str] | None = None, min_run_s: float | None = None,
        isolate: bool = True) -> list[dict]:
    """One row per peer; ``isolate=False`` runs the peers in this process (tests, no timing claims)."""
    chosen = list(PEERS) if peers is None else [p for p in PEERS if p in peers]
    if REFERENCE not in chosen or (peers is not None and set(peers) - set(PEERS)):
        raise ValueError(f"peers must include {REFERENCE!r} and come from {list(PEERS)}; got {peers}")
    epochs = epochs or (QUICK_EPOCHS if settings.quick else EPOCHS)
    base = {"model": "-".join(map(str, SIZES)), "epochs": epochs, "check_epochs": check_epochs,
            "batch_size": BATCH}
    if not training.installed("sklearn"):
        settings.note(f"  skipped: {SKLEARN_HINT}")
        return [_skipped(base, peer, SKLEARN_HINT) for peer in chosen]
    X, _, X_test, Y_test = load()
    net = model()
    base.update(n_train=len(X), n_test=len(X_test), n_params=net.n_params)
    spec = {
        "problem": "mlp_digits",
        "theta0": [float(v) for v in net.init_params(seed=0)],
        "steps": epochs,  # the training harness's "step" is one epoch here
        "check_steps": check_epochs,
        "min_run_s": min_run_s or (QUICK_MIN_RUN_S if settings.quick else MIN_RUN_S),
        "runs": 1 if settings.quick else RUNS_PER_PROCESS,
        "budget_s": BUDGET_S,
        "threads": 1,
    }
    results, skipped = training.measure_peers(spec, {p: PEERS[p] for p in chosen}, settings, isolate)
    rows = training.rows(results, skipped, REFERENCE, base, TOLERANCES, TARGETS, EXACT)
    reference = accuracy(rows[0]["end_theta"], X_test, Y_test)
    for row in rows:
        for key in ("steps_per_s", "best_steps_per_s"):  # epochs/s -> samples/s
            rate = row.pop(key)
            row[key.replace("steps", "samples")] = None if rate is None else rate * len(X)
        for run_ in row.get("runs", ()):
            run_["samples_per_s"] = run_.pop("steps_per_s") * len(X)
        if row["skipped"]:
            row["test_accuracy"] = None
            continue
        row["test_accuracy"] = accuracy(row["end_theta"], X_test, Y_test)
        row["accuracy_ok"] = abs(row["test_accuracy"] - reference) <= 1 / len(X_test) and (
            epochs < EPOCHS or reference >= MIN_ACCURACY)
        row["answers_equal"] = row["answers_equal"] and row["accuracy_ok"]
    return rows


def _skipped(base: dict, peer: str, why: str) -> dict:
    row = training.skipped_row(base, peer, why)
    row["samples_per_s"] = row.pop("steps_per_s")
    row["best_samples_per_s"] = row.pop("best_steps_per_s")
    row["test_accuracy"] = None
    return row


def _rate(key: str) -> Callable[[dict], str]:
    def cell(row: dict) -> str:
        value = row[key]
        if value is None:
            return "skipped"
        return f"{value / 1e6:.3g} M" if value >= 1e6 else f"{value / 1e3:.3g} k"

    return cell


def _accuracy(row: dict) -> str:
    return "-" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"


def _columns() -> tuple:
    replaced = {"steps/s": ("samples/s", _rate("samples_per_s")),
                "best run": ("best run", _rate("best_samples_per_s"))}
    columns = [("epochs", lambda r: str(r["epochs"]))]
    for header, cell in training.COLUMNS:
        if header == "err check":
            columns.append(("test acc", _accuracy))
        columns.append(replaced.get(header, (header, cell)))
    return tuple(columns)


COLUMNS = _columns()


def flops_per_sample(sizes: Sequence[int] = SIZES, batch: int = BATCH, n: int = 1437) -> float:
    """FLOPs per training sample of a ``d``-``h``-``k`` tanh network with softmax cross-entropy::

        forward   2 d h + h + 2 h k     W1 x + b1, tanh, W2 a + b2 (the biases are among the adds)
        loss      8 k + 1               z - max z (k), exp (k), sum (k - 1), log and add the max back
                                        (2), y . z (2 k - 1), their difference (1); p = exp(z - lse)
                                        (2 k), p - y (k)
        backward  2 h k + k             delta2 a^T and delta2 added into the gradients of W2, b2
                  h (2 k - 1) + 3 h     W2^T delta2, times 1 - a**2
                  2 d h + h             delta1 x^T and delta1 added into the gradients of W1, b1

    plus the Adam update, 13 FLOPs per parameter and step (``ADAM_FLOPS``), spread over the samples:
    ``ceil(n / batch)`` steps per epoch of ``n`` samples. Finding the max takes comparisons, not
    counted; dividing the sums by the batch size happens once per batch and is not counted either.
    64-32-10, 32, 1,437: 4,768 forward, 81 loss, 5,482 backward, 10,331 per sample; Adam 45 x 2,410 x 13
    per 1,437 samples, 981.1; 11,312 in all.
    """
    d, h, k = sizes
    per_sample = (2 * d * h + h + 2 * h * k) + (8 * k + 1) + (2 * h * k + k + h * (2 * k - 1) + 3 * h
                                                               + 2 * d * h + h)
    params = h * d + h + k * h + k
    return per_sample + ADAM_FLOPS * params * -(-n // batch) / n


FLOPS = FlopCount(
    rate="samples_per_s", unit="sample", after="samples/s",
    per_unit=lambda row: flops_per_sample(SIZES, row["batch_size"], row["n_train"]),
    what="forward, loss, backward and the Adam update spread over the batch, counted in "
         "mlp_digits.flops_per_sample",
)
