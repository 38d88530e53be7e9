"""The lecture notes' pictures, drawn from the models themselves (needs symgrad[viz]).

    python examples/pictures.py [DIRECTORY]      (default ./pictures)

1. Seed 001's way to look at a cost over many parameters: J(θ + aθ₁) along
   random directions through the trained logistic regression, the plane
   J(θ + aθ₁ + bθ₂) as contours and as a surface, and the same for the seed
   003 network with directions scaled to each parameter's size.
2. The optimizer comparison: SGD, momentum, Nesterov, Adagrad, RMSProp and
   Adam from (-1.5, 2) on Rosenbrock's valley, and on the narrow valley
   x²/20 + y², where momentum overshoots and gradient descent crawls.
3. Learning rate too small, about right, too large (seeds 001 and 003).
4. Training curves of mini-batch Adam with validation data.
5. The computational graphs of seed 002's f = 2(xy + max(z, w)) and of the
   seed 003 network (Graphviz when installed, else matplotlib; .dot always).

Each file name is printed as it is written.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import sympy as sp

import symgrad as sg
import symgrad.viz as viz
from symgrad.cli.demo import gate_example, logistic_data, logistic_regression, seed003_network

out = Path(sys.argv[1] if len(sys.argv) > 1 else "pictures")
out.mkdir(parents=True, exist_ok=True)
O = sg.optim


def wrote(name: str) -> Path:
    path = out / name
    print(f"wrote {path}")
    return path


# 1. The cost along random directions (seed 001), around a trained logistic regression (seed 000).
model = logistic_regression()
X, T = logistic_data(n=1000, seed=0)
Xv, Tv = logistic_data(n=300, seed=1)
trained = sg.fit(model, X, T, optimizer=O.Adam(lr=0.05), batch_size=50, epochs=20, seed=0,
                 validation=(Xv, Tv), schedule=sg.schedules.exponential(0.002), progress=False)
viz.landscape_1d(model, trained, X, T, count=3, span=3.0, seed=0, path=out / "landscape_line.png")
wrote("landscape_line.png")
viz.landscape_2d(model, trained, X, T, span=3.0, points=41, seed=0, path=out / "landscape_plane.png")
wrote("landscape_plane.png")
viz.landscape_2d(model, trained, X, T, span=3.0, points=41, seed=0, kind="surface",
                 path=out / "landscape_surface.png")
wrote("landscape_surface.png")

# The 2-2-1 network of seed 003 at its worked-example point: six weights of different sizes, so
# directions are scaled by each weight's size (scale="param"); a = 1 moves every weight by about itself.
network, point = seed003_network()
theta = np.array([float(point[p]) for p in network.params])
X1 = np.array([[float(point[s]) for s in network.inputs]])
T1 = np.array([[float(point[s]) for s in network.targets]])
viz.landscape_2d(network, theta, X1, T1, span=4.0, points=41, scale="param", seed=3,
                 title="seed 003 network: J(θ + aθ₁ + bθ₂), directions scaled by |θᵢ|",
                 path=out / "landscape_network.png")
wrote("landscape_network.png")

# 2. Optimizer paths (seeds 001 and 003).
x, y = sp.symbols("x y")
rosenbrock = (1 - x) ** 2 + 100 * (y - x**2) ** 2
viz.trajectories(rosenbrock, {x: -1.5, y: 2.0}, viz.seed_optimizers(), steps=500, minimum={x: 1, y: 1},
                 title="Rosenbrock from (-1.5, 2): 500 steps of each optimizer",
                 path=out / "optimizer_paths.png")
wrote("optimizer_paths.png")
viz.trajectories(x**2 / 20 + y**2, {x: -4.0, y: 1.0},
                 {"SGD": O.GD(lr=0.1), "Momentum": O.Momentum(lr=0.1), "Nesterov": O.Nesterov(lr=0.1),
                  "Adagrad": O.Adagrad(lr=0.3), "RMSProp": O.RMSProp(lr=0.05), "Adam": O.Adam(lr=0.2)},
                 steps=100, minimum={x: 0, y: 0}, bounds=((-4.5, 1.5), (-1.5, 1.5)),
                 title="narrow valley x²/20 + y²: 100 steps each", path=out / "optimizer_paths_valley.png")
wrote("optimizer_paths_valley.png")

# 3. Learning rates: gradient descent on x² + 10y² is stable only for lr < 2/20.
viz.learning_rates(x**2 + 10 * y**2, {x: 3.0, y: 1.0}, rates=[0.001, 0.01, 0.05, 0.09, 0.11], optimizer=O.GD,
                   steps=200, path=out / "learning_rates.png")
wrote("learning_rates.png")

# 4. The training run of part 1.
viz.training_curves(trained, path=out / "training_curves.png")
wrote("training_curves.png")

# 5. Computational graphs.
gates, _, _ = gate_example()
for name, source in (("graph_gates", gates), ("graph_network", network)):
    viz.to_dot(source, out / f"{name}.dot")
    wrote(f"{name}.dot")
    viz.draw_graph(source, out / f"{name}.png", engine="matplotlib")
    wrote(f"{name}.png")
    if shutil.which("dot"):
        viz.draw_graph(source, out / f"{name}_graphviz.svg", engine="graphviz")
        wrote(f"{name}_graphviz.svg")
