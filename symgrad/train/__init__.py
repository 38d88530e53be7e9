"""Training: the optimizer driver (``sg.fit``, ``sg.minimize``) over compiled kernels."""
