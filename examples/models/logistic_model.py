"""Logistic regression as a Python model file.

A Python model file is ordinary Python that sg.load_model runs (trusted code, like
any script you run): it must define ``model`` and may define ``data`` (a path
relative to this file, or a pair (X, T)), ``optimizer``, ``schedule``,
``fit_settings`` (the keyword arguments of the [train] table) and ``x0``.
"""

import sympy as sp

import symgrad as sg

w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
p = sg.sigmoid(w1 * x1 + w2 * x2 + b)

model = sg.Model(loss=sg.losses.binary_cross_entropy(p, t), params=[w1, w2, b], inputs=[x1, x2],
                 targets=[t], regularizer=sg.losses.l2_penalty([w1, w2], 1e-3), outputs=p)
data = "logistic.csv"
optimizer = sg.optim.Adam(lr=0.05)
schedule = sg.schedules.inverse_time(1e-3)
fit_settings = {"epochs": 20, "batch_size": 32, "seed": 0}
x0 = {w1: 0.0, w2: 0.0, b: 0.0}
