"""Networks written out in scalar SymPy, and an independent numeric reference.

``mlp((2, 16, 16, 1))`` is a sigmoid network with one SymPy ``Symbol`` per
weight and bias: every layer (output included) applies ``symgrad.sigmoid``
to ``W a + b``, and the per-sample loss is ``(y - t)**2 / 2`` for inputs
``x1, x2`` and target ``t``. :func:`backprop` computes the same gradient
with plain numpy, as a check that shares no code with symgrad or SymPy.
:func:`matrix_mlp` declares the same function in matrix form (``sg.nn``), and
:func:`matrix_order` maps the scalar parameter order to the matrix one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

import symgrad as sg

__all__ = ["MLP", "mlp", "backprop", "matrix_mlp", "matrix_order"]


@dataclass(frozen=True)
class MLP:
    """A scalar-symbol network and its loss.

    ``weights[l][j][i]`` connects unit ``i`` of layer ``l`` to unit ``j`` of
    layer ``l + 1``; ``biases[l][j]`` is that unit's bias. ``params`` lists,
    layer by layer and unit by unit, the unit's weights then its bias.
    """

    sizes: tuple[int, ...]
    weights: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]
    biases: tuple[tuple[sp.Symbol, ...], ...]
    inputs: tuple[sp.Symbol, ...]
    targets: tuple[sp.Symbol, ...]
    loss: sp.Expr

    @property
    def name(self) -> str:
        return "-".join(map(str, self.sizes))

    @property
    def params(self) -> list[sp.Symbol]:
        return [s for w, b in zip(self.weights, self.biases, strict=True)
                for row, bias in zip(w, b, strict=True) for s in (*row, bias)]

    @property
    def symbols(self) -> list[sp.Symbol]:
        """Every free symbol of the loss: parameters, then inputs, then targets."""
        return self.params + list(self.inputs) + list(self.targets)


def mlp(sizes: tuple[int, ...]) -> MLP:
    """The sigmoid network with layer widths ``sizes`` (two inputs, one output)."""
    if len(sizes) < 2 or sizes[0] != 2 or sizes[-1] != 1:
        raise ValueError(f"sizes must run from 2 inputs to 1 output, got {sizes}")
    inputs = sp.symbols("x1 x2")
    target = sp.Symbol("t")
    weights, biases, activations = [], [], list(inputs)
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        w = tuple(tuple(sp.Symbol(f"w{layer}_{j}_{i}") for i in range(n_in)) for j in range(n_out))
        b = tuple(sp.Symbol(f"b{layer}_{j}") for j in range(n_out))
        activations = [
            sg.sigmoid(sp.Add(*(w_ji * a for w_ji, a in zip(row, activations, strict=True))) + bias)
            for row, bias in zip(w, b, strict=True)
        ]
        weights.append(w)
        biases.append(b)
    loss = (activations[0] - target) ** 2 / 2
    return MLP(tuple(sizes), tuple(weights), tuple(biases), inputs, (target,), loss)


def backprop(net: MLP, point: dict[sp.Symbol, float]) -> np.ndarray:
    """The gradient of ``net.loss`` at ``point``, in ``net.params`` order, by numpy backprop."""

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def values(symbols) -> np.ndarray:
        return np.array([[point[s] for s in row] for row in symbols], dtype=np.float64)

    weights = [values(w) for w in net.weights]
    biases = [values([b])[0] for b in net.biases]
    activations = [values([net.inputs])[0]]
    for w, b in zip(weights, biases, strict=True):
        activations.append(sigmoid(w @ activations[-1] + b))
    y, t = activations[-1][0], point[net.targets[0]]
    delta = np.array([(y - t) * y * (1 - y)])
    blocks = []
    for layer in reversed(range(len(weights))):
        a = activations[layer]
        blocks.append(np.column_stack([np.outer(delta, a), delta]).ravel())
        delta = (weights[layer].T @ delta) * a * (1 - a)
    return np.concatenate(blocks[::-1])


def matrix_mlp(sizes: tuple[int, ...]) -> sg.Model:
    """The function of ``mlp(sizes).loss`` declared with matrices: ``sg.nn.mlp`` with sigmoid on every
    layer (the output's included) and ``sg.nn.squared_error``, ``(y - t)**2 / 2`` for one output.

    Its parameters are ``W1, b1, W2, b2, ...``, each matrix row-major: see :func:`matrix_order`.
    """
    mlp(sizes)  # the same checks on the sizes
    net = sg.nn.mlp(list(sizes), activation="sigmoid", output="sigmoid")
    target = sg.Target("t", sizes[-1])
    return sg.Model(loss=sg.nn.squared_error(net.output, target), params=net.params, inputs=[net.x],
                    targets=[target])


def matrix_order(sizes: tuple[int, ...]) -> np.ndarray:
    """``order`` with ``theta_matrix = theta_scalar[order]``; and ``grad_scalar[order] = grad_matrix``.

    Both orders hold the layers one after the other in blocks of the same size: the scalar
    one unit by unit (its weights, then its bias: the rows of ``[W | b]``), the matrix one
    ``W`` row-major and then ``b``.
    """
    order, offset = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        rows = offset + (n_in + 1) * np.arange(n_out)
        order += [*(rows[:, None] + np.arange(n_in)).ravel(), *(rows + n_in)]
        offset += (n_in + 1) * n_out
    return np.array(order, dtype=np.int64)
