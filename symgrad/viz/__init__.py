"""Pictures: loss landscapes, optimizer paths, learning curves, computational graphs.

Needs the optional extra ``viz`` (matplotlib): ``pip install "symgrad[viz]"``.
Import it explicitly, ``import symgrad.viz``; ``import symgrad`` alone never
imports matplotlib, and without matplotlib every picture raises ImportError
with that install hint (:func:`to_dot` needs nothing).

=======================  ============================================================
:func:`landscape_1d`     J(θ + aθ₁) along random directions (lecture notes 001)
:func:`landscape_2d`     J(θ + aθ₁ + bθ₂) over a plane of two random directions
:func:`trajectories`     optimizer paths over the contours of a 2-parameter objective
:func:`learning_rates`   loss per step for several learning rates, divergence marked
:func:`training_curves`  a run's history: loss, gradient norm, rate, epoch losses
:func:`draw_graph`       the computational graph (Graphviz, or matplotlib)
:func:`to_dot`           the graph as Graphviz text
=======================  ============================================================

Each returns the matplotlib Figure, or a small result object whose
``.figure`` it is, next to the numbers drawn; each saves the figure when
given ``path=`` (``.png``, ``.svg`` or ``.pdf``, by suffix). Figures are
detached ``matplotlib.figure.Figure`` objects rendered by Agg: no display,
no pyplot state.
"""

from __future__ import annotations

from ._style import INSTALL_HINT, Picture
from .contours import Trajectories, seed_optimizers, trajectories
from .curves import LearningRateSweep, learning_rates, training_curves
from .graphdraw import GraphLayout, draw_graph, layered_layout, to_dot
from .landscape import SCALES, Landscape, landscape_1d, landscape_2d, random_directions

__all__ = [
    "INSTALL_HINT",
    "Picture",
    "SCALES",
    "Landscape",
    "landscape_1d",
    "landscape_2d",
    "random_directions",
    "Trajectories",
    "trajectories",
    "seed_optimizers",
    "LearningRateSweep",
    "learning_rates",
    "training_curves",
    "GraphLayout",
    "draw_graph",
    "layered_layout",
    "to_dot",
]
