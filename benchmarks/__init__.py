"""symgrad's benchmark harness: ``python -m benchmarks [--quick] [--only NAME] [--repeat N] [--out DIR]``.

Each workload lives in its own module under :mod:`benchmarks.workloads`;
:func:`benchmarks.harness.run` runs some of them, prints a table of medians
per workload and writes a JSON record (with the machine it ran on) and a
Markdown summary. See ``docs/performance.md``.
"""
