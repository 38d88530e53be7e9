"""Logistic regression on a real data set: scikit-learn's breast-cancer data.

569 tumours, 30 features, benign or malignant. Needs scikit-learn
(``pip install scikit-learn``; the ``dev`` extra includes it). The model is
seed 000's logistic regression with 30 inputs, declared in SymPy; it is
trained by full-batch gradient descent (the notes' batch GD) and by
mini-batch Adam, with the cross-entropy on a held-out quarter as validation.
"""

import sys

import numpy as np
import sympy as sp

import symgrad as sg

try:
    from sklearn.datasets import load_breast_cancer
except ImportError:
    sys.exit("this example loads its data from scikit-learn: pip install scikit-learn")

data = load_breast_cancer()
X, T = data.data, data.target.astype(float)
order = np.random.default_rng(0).permutation(len(X))
train, test = order[: 3 * len(X) // 4], order[3 * len(X) // 4:]
mean, std = X[train].mean(axis=0), X[train].std(axis=0)
X = (X - mean) / std  # standardised with the training statistics

w = sp.symbols(f"w0:{X.shape[1]}")
x = sp.symbols(f"x0:{X.shape[1]}")
b, t = sp.symbols("b t")
p = sg.sigmoid(sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b)
model = sg.Model(loss=sg.losses.binary_cross_entropy(p, t), params=[*w, b], inputs=list(x), targets=[t],
                 outputs=[p])
print(f"{len(train)} training and {len(test)} test samples, {model.n_params} parameters")


def accuracy(theta, rows):
    probabilities = model.compile().predict(theta, np.ascontiguousarray(X[rows]))
    return np.mean((probabilities > 0.5) == (T[rows] > 0.5))


runs = {
    "batch GD, lr 0.5": dict(optimizer=sg.optim.GD(lr=0.5), max_iter=2000, tol=1e-4),
    "mini-batch Adam, 32 per batch": dict(optimizer=sg.optim.Adam(lr=1e-2), batch_size=32, epochs=20, seed=0),
}
for name, settings in runs.items():
    result = sg.fit(model, X[train], T[train], theta0=np.zeros(model.n_params),
                    validation=(X[test], T[test]), **settings)
    print(f"{name}: {result.reason} after {result.n_iter} steps ({result.n_epochs} epochs), "
          f"training loss {result.loss:.4f}, validation loss {result.history.val_loss[-1]:.4f}, "
          f"test accuracy {accuracy(result.theta, test):.3f}")
