"""The notes' 2-2-1 sigmoid network (seed 003) in matrix form, checked against the scalar form.

x = (0.35, 0.9), W1 = [[0.1, 0.8], [0.4, 0.6]] (into the hidden layer),
W2 = [0.3, 0.9] (into the output), target 0.5, E = ½(o − t)², no biases.
The matrix model prints the backprop recursion with whole matrices; its
compiled gradient equals the scalar model's exact gradient (w31 … w54).

    python examples/seed003_matrix_form.py
"""

import numpy as np
import sympy as sp

import symgrad as sg

x = sg.Input("x", 2)
t = sg.Target("t")
W1 = sg.Param("W1", (2, 2))      # row j holds the weights into hidden unit j
W2 = sg.Param("W2", (1, 2))
output = sg.nn.sigmoid(W2 * sg.nn.sigmoid(W1 * x))
matrix_model = sg.Model(loss=sg.nn.squared_error(sg.nn.element(output), t), params=[W1, W2], inputs=[x],
                        targets=[t])
print(matrix_model.explain(W1))

W1_value = np.array([[0.1, 0.8], [0.4, 0.6]])
W2_value = np.array([[0.3, 0.9]])
theta = matrix_model.flatten({W1: W1_value, W2: W2_value})
X, T = np.array([[0.35, 0.9]]), np.array([0.5])
loss, gradient = matrix_model.compile().loss_and_grad(theta, X, T)
print(f"\nE = {loss:.10f}")
grads = matrix_model.unflatten(gradient)
print(f"∂E/∂W1 =\n{grads[W1]}")
print(f"∂E/∂W2 = {grads[W2]}")

# The same network with one symbol per weight, differentiated exactly by the scalar path.
x1, x2, w31, w32, w41, w42, w53, w54, s = sp.symbols("x1 x2 w31 w32 w41 w42 w53 w54 s")
z5 = w53 * sg.sigmoid(w31 * x1 + w32 * x2) + w54 * sg.sigmoid(w41 * x1 + w42 * x2)
E = (sg.sigmoid(z5) - s) ** 2 / 2
weights = [w31, w32, w41, w42, w53, w54]
point = {x1: 0.35, x2: 0.9, s: 0.5, **dict(zip(weights, theta, strict=True))}
scalar = sg.grad(E, weights, at=point)
difference = np.max(np.abs(scalar - gradient))
print(f"\nthe matrix form equals the scalar form: largest difference {difference:.1e}")
