"""Optimise a network's inputs with its weights fixed (controls u of the notes).

A small feed-forward network with a skip connection maps controls (u1, u2) to
an output; we look for controls that drive the output to a target by gradient
descent on the controls, using exact gradients with respect to the inputs.

    python examples/optimise_inputs.py
"""

import sympy as sp

import symgrad as sg

u1, u2, t = sp.symbols("u1 u2 t")
weights = {sp.Symbol("w31"): sp.Rational(1, 2), sp.Symbol("w41"): -1, sp.Symbol("w43"): 2}
w31, w41, w43 = weights
hidden = sp.tanh(w31 * u1)
output = sg.sigmoid(w41 * u1 + w43 * hidden + u2)  # u1 also feeds the output directly
error = (output - t) ** 2 / 2

# Exact gradient w.r.t. the controls, as an expression of the controls only,
# turned into a plain numpy function once (activations rewritten for lambdify).
gradient = [g.subs(weights) for g in sg.grad(error, [u1, u2])]
print("∂E/∂u1 =", gradient[0])
gradient_at = sp.lambdify([u1, u2, t], [sg.expand_activations(g) for g in gradient])
output_at = sp.lambdify([u1, u2], sg.expand_activations(output.subs(weights)))

controls, target, learning_rate = [1.0, 0.0], 0.9, 2.0
for _step in range(200):
    g = gradient_at(*controls, target)
    controls = [c - learning_rate * gi for c, gi in zip(controls, g, strict=True)]

reached = output_at(*controls)
print(f"controls u1 = {controls[0]:.4f}, u2 = {controls[1]:.4f}")
print(f"output {reached:.4f} for target {target} (error {(reached - target) ** 2 / 2:.2e})")
