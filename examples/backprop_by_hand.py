"""Check a hand derivation of backprop on the 2-2-1 sigmoid network of the notes.

Prints each chain-rule factor of ∂E/∂w53 and ∂E/∂w31 with its value, so the
numbers of a hand computation can be compared line by line, then the exact
gradient and one gradient-descent step.

    python examples/backprop_by_hand.py
"""

import sympy as sp

import symgrad as sg

x1, x2, w31, w32, w41, w42, w53, w54, t = sp.symbols("x1 x2 w31 w32 w41 w42 w53 w54 t")
z3 = w31 * x1 + w32 * x2
z4 = w41 * x1 + w42 * x2
z5 = w53 * sg.sigmoid(z3) + w54 * sg.sigmoid(z4)
model = sg.Model(
    loss=sg.losses.half_squared_error(sg.sigmoid(z5), t),
    params=[w31, w32, w41, w42, w53, w54],
    inputs=[x1, x2],
    targets=[t],
)
R = sp.Rational
point = {x1: R(35, 100), x2: R(9, 10), w31: R(1, 10), w32: R(8, 10),
         w41: R(4, 10), w42: R(6, 10), w53: R(3, 10), w54: R(9, 10), t: R(1, 2)}
names = {z3: "z3", z4: "z4", z5: "z5", sg.sigmoid(z3): "y3", sg.sigmoid(z4): "y4",
         sg.sigmoid(z5): "y5"}

print(model.explain(w53, at=point, names=names))
print()
print(model.explain(w31, at=point, names=names))

values = model.program.evaluate(point)
print("\nexact gradient:")
for i, param in enumerate(model.params):
    print(f"  ∂E/∂{param} = {sp.N(values['grad', 0, i], 10)}")
updated = {**point, **{p: point[p] - values["grad", 0, i] for i, p in enumerate(model.params)}}
print(f"\nE before: {sp.N(values['value', 0], 10)}")
print(f"E after one step with learning rate 1: {sp.N(model.program.evaluate(updated)['value', 0], 10)}")
