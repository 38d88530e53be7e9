"""A 64-32-10 tanh network on scikit-learn's bundled 8×8 digits, declared in matrix form.

The network is four matrix symbols and one SymPy expression; symgrad
differentiates it at the tensor level (the backprop δ recursion, printed
below), compiles batched kernels that call BLAS, and trains it with Adam on
mini-batches of 32. The digits data ships with scikit-learn, so this runs
offline:

    pip install "symgrad[examples]"      # scikit-learn
    python examples/mlp_digits.py
"""

import sys
import time

import numpy as np

import symgrad as sg

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
except ModuleNotFoundError:
    sys.exit('this example needs scikit-learn: pip install "symgrad[examples]"')

digits = load_digits()
X = digits.data / 16.0                    # pixels in [0, 1]
Y = np.eye(10)[digits.target]             # one-hot targets, one row per sample
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2, random_state=0)

# The declaration: one sample's x (64 pixels) and one-hot y; logits W2 tanh.(W1 x + b1) + b2.
net = sg.nn.mlp([64, 32, 10], activation="tanh")
y = sg.Target("y", 10)
model = sg.Model(loss=sg.nn.cross_entropy(net.output, y), params=net.params, inputs=[net.x], targets=[y])
W1 = net.params[0]
print(model)
print(model.explain(W1))

started = time.perf_counter()
result = sg.fit(model, X_train, Y_train, optimizer=sg.optim.Adam(lr=1e-3), batch_size=32, epochs=20, seed=0,
                theta0=model.init_params(seed=0), progress=False)
print(f"\ntrained {result.n_iter} Adam steps in {time.perf_counter() - started:.2f} s "
      f"(compiling included): training loss {result.loss:.4f}")

logits = model.compile().predict(result.theta, X_test)       # (n, 10)
accuracy = np.mean(logits.argmax(axis=1) == Y_test.argmax(axis=1))
print(f"test accuracy {accuracy:.4f} on {len(X_test)} held-out digits")
print("W1 has shape", result.params[W1].shape)
