"""Backprop on an arbitrary feed-forward network, then optimising its inputs (seed 004).

The network is a networkx DAG of units: inputs 1 and 2, a tanh unit 3 with a
bias, a sigmoid unit 4, and a sigmoid output 5 with a bias that input 1 also
reaches directly (a skip connection). We print the notes' δ recursion, the
δ values and ∂E/∂w_ji = δ_j o_i at a point, check them against symgrad's own
reverse sweep (sg.grad), then fix the weights and look for inputs (controls u)
that drive the output to a target.

    python examples/dag_network.py
"""

import networkx as nx
import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.nn.network import Network

G = nx.DiGraph([(1, 3), (2, 3), (1, 4), (2, 4), (3, 5), (4, 5), (1, 5)])
G.nodes[3].update(transfer=sp.tanh, bias=True)
G.nodes[5].update(bias=True)  # units 4 and 5 use the default transfer, sg.sigmoid
net = Network(G)
print(net)

print("\nthe δ recursion (δ_j = ∂E/∂z_j):")
for unit, delta in net.deltas(local=True).items():
    print(f"  δ{unit} = {delta}")

R = sp.Rational
# w31, w32, b3, w41, w42, w51, w53, w54, b5: the order of net.weights
weights = dict(zip(net.weights, [R(1, 2), R(-3, 10), R(1, 10), R(4, 5), R(3, 5),
                                 R(-7, 10), R(6, 5), R(9, 10), R(-2, 5)], strict=True))
x1, x2 = net.inputs
(t5,) = net.targets
point = {**weights, x1: R(7, 20), x2: R(9, 10), t5: 1}

print("\nat the point:")
for unit, delta in net.deltas().items():
    print(f"  δ{unit} = {sp.N(delta.xreplace(point), 10)}")
backprop = np.array([float(sp.N(g.xreplace(point), 20)) for g in net.gradient().values()])
for w, g in zip(net.weights, backprop, strict=True):
    print(f"  ∂E/∂{w} = {g:.10f}")
reverse = sg.grad(net.error, list(net.weights), at=point)
print(f"δ rule vs sg.grad: max |difference| = {np.max(np.abs(backprop - reverse)):.1e}")

# The controls: the same network with its weights fixed, its inputs as parameters.
target = 0.9
controls = net.control_model(weights, targets=[target])
res = sg.minimize(controls, x0={x1: 0.0, x2: 0.0}, optimizer=sg.optim.Momentum(lr=1.0), max_iter=5000,
                  tol=1e-10)
reached = float(sp.N(net.output[5].xreplace({**weights, **res.params})))
print(f"\ncontrols x1 = {res.params[x1]:.4f}, x2 = {res.params[x2]:.4f} "
      f"after {res.n_iter} steps ({res.reason})")
print(f"output {reached:.6f} for target {target}")
