"""How far rounding alone moves Adam on the Rosenbrock function: the tolerances of ``rosenbrock_adam``.

``python -m benchmarks.rosenbrock_sensitivity`` runs the ``rosenbrock_adam``
algorithm (torch's Adam, lr 1e-2, from (-1.5, 2)) in float64 many times with
differences at the level of rounding: the start ``x0`` moved by 1 to
``--starts`` units of 1.1e-16 relative, and three orderings of the same
arithmetic (symgrad's generated gradient, the hand-written one, torch's
``lerp`` form of the first moment). It prints the largest and median
distance (largest absolute difference over the largest entry) from the
unperturbed run after a few step counts, and, for contrast, how far
algorithms that differ slightly (eps inside the square root, eps before the
bias correction, eps 1e-7) are after 2,000 steps. About 10 s.
"""

from __future__ import annotations

import argparse
import math

import numba
import numpy as np

X0, LR, B1, B2, EPS = (-1.5, 2.0), 1e-2, 0.9, 0.999, 1e-8
AT = (2_000, 5_000, 10_000, 15_000, 20_000)
#: Orderings of the same arithmetic.
SYMGRAD_ORDER, HAND_ORDER, TORCH_LERP = 0, 1, 2
#: Slightly different algorithms.
EPS_INSIDE, EPS_BEFORE_CORRECTION = 3, 4


@numba.njit(cache=True)
def path(steps, x_scale, variant, eps):
    """The iterate after every step: ``(steps, 2)``."""
    x, y = X0[0] * x_scale, X0[1]
    mx = my = vx = vy = 0.0
    out = np.empty((steps, 2))
    for t in range(1, steps + 1):
        if variant == SYMGRAD_ORDER:  # as symgrad's generated kernel writes it
            v4 = 1.0 - x
            d11 = 200.0 * (-(x * x) + y)
            gx, gy = -2.0 * d11 * x - 2.0 * v4, d11
        else:
            r = y - x * x
            gx, gy = -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r
        if variant == TORCH_LERP:
            mx, my = mx + (1.0 - B1) * (gx - mx), my + (1.0 - B1) * (gy - my)
        else:
            mx, my = B1 * mx + (1.0 - B1) * gx, B1 * my + (1.0 - B1) * gy
        vx, vy = B2 * vx + (1.0 - B2) * gx * gx, B2 * vy + (1.0 - B2) * gy * gy
        bc1, bc2 = 1.0 - B1**t, 1.0 - B2**t
        if variant == EPS_INSIDE:
            dx, dy = math.sqrt(vx / bc2 + eps), math.sqrt(vy / bc2 + eps)
        elif variant == EPS_BEFORE_CORRECTION:
            dx, dy = (math.sqrt(vx) + eps) / math.sqrt(bc2), (math.sqrt(vy) + eps) / math.sqrt(bc2)
        else:
            dx, dy = math.sqrt(vx) / math.sqrt(bc2) + eps, math.sqrt(vy) / math.sqrt(bc2) + eps
        x -= LR / bc1 * mx / dx
        y -= LR / bc1 * my / dy
        out[t - 1, 0], out[t - 1, 1] = x, y
    return out


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per step: largest absolute difference over the largest entry of ``b``."""
    return np.max(np.abs(a - b), axis=1) / np.max(np.abs(b), axis=1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rosenbrock_sensitivity", description=__doc__)
    parser.add_argument("--starts", type=int, default=300, help="perturbed starts per ordering")
    args = parser.parse_args(argv)
    steps = max(AT)
    reference = path(steps, 1.0, SYMGRAD_ORDER, EPS)
    spread = np.array([distance(path(steps, 1.0 + k * 1.1e-16, variant, EPS), reference)
                       for k in range(args.starts + 1) for variant in (SYMGRAD_ORDER, HAND_ORDER, TORCH_LERP)
                       if k or variant != SYMGRAD_ORDER])
    print(f"{len(spread)} runs differing by rounding only, distance from the unperturbed run:")
    for at in AT:
        off = np.max(np.abs(reference[at - 1] - 1.0))
        print(f"  after {at:>6,} steps: largest {spread[:, at - 1].max():.1e}, median "
              f"{np.median(spread[:, at - 1]):.1e}  (the unperturbed run is {off:.1e} from (1, 1))")
    at = AT[0]
    print(f"other algorithms after {at:,} steps:")
    for name, variant, eps in (("eps inside the square root", EPS_INSIDE, EPS),
                               ("eps before the bias correction", EPS_BEFORE_CORRECTION, EPS),
                               ("eps 1e-7", SYMGRAD_ORDER, 1e-7)):
        print(f"  {name}: {distance(path(at, 1.0, variant, eps), reference[:at])[-1]:.1e}")


if __name__ == "__main__":
    main()
