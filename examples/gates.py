"""Backprop through the + / * / max gates of f = 2(xy + max(z, w)).

Shows the graph symgrad builds, the straight-line program it derives, and the
gradient at (3, -4, 2, -1) (the notes: f = -20, ∇f = (-8, 6, 2, 0)), then what
happens at a tie of the max gate.

    python examples/gates.py
"""

import sympy as sp

import symgrad as sg

x, y, z, w = sp.symbols("x y z w")
f = 2 * (x * y + sp.Max(z, w))

print("graph nodes:")
for node, data in sg.graph(f).nodes(data=True):
    print(f"  {node}: {data['op']:<8} {data['expr']}")

print("\nprogram:")
print(sg.program(f, [x, y, z, w]))

print("\n∇f at (3, -4, 2, -1):", sg.grad(f, [x, y, z, w], at={x: 3, y: -4, z: 2, w: -1}))
print("∇f at a tie z = w = 2:", sg.grad(f, [x, y, z, w], at={x: 3, y: -4, z: 2, w: 2}))
print("Hessian in (x, y):")
sp.pprint(sg.hessian(f, [x, y]))
