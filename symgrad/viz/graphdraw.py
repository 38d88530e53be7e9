"""The computational graph drawn: Graphviz when its ``dot`` is installed, matplotlib otherwise.

The graph is the networkx IR of :mod:`symgrad.graph.lower` (``model.graph``
or ``sg.graph(expr)``): one node per distinct subexpression, edges from
operand to result. Leaves are coloured by role (parameter, input, target,
variable, constant), op nodes are white, and an output has a double border
(Graphviz) or a thick one (matplotlib). :func:`to_dot` writes the Graphviz
text and needs nothing else.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import NamedTuple

import networkx as nx
import numpy as np
import sympy as sp

from ..errors import DeclarationError
from ._style import ROLE_COLORS, check_path, finish, new_figure, require_matplotlib

__all__ = ["to_dot", "draw_graph", "node_label", "layered_layout", "GraphLayout"]

#: Ops shown by their operator sign rather than their name.
_SIGNS = {"Add": "+", "Mul": "×", "Pow": "^"}
#: Ops whose operand order does not matter: their edges carry no position label.
_COMMUTATIVE = frozenset({"Add", "Mul", "Max", "Min", "And", "Or", "Eq", "Ne"})
_LABEL_WIDTH = 24


def _as_graph(source) -> nx.DiGraph:
    if isinstance(source, nx.DiGraph):
        return source
    if hasattr(source, "graph") and isinstance(source.graph, nx.DiGraph):
        return source.graph
    if isinstance(source, sp.Basic):
        from ..graph.lower import to_graph

        return to_graph(source)
    raise DeclarationError(f"expected a networkx graph from symgrad, a Model or a SymPy expression, got "
                           f"{type(source).__name__}")


def node_label(data: dict) -> str:
    """A node's label: the symbol or constant for a leaf, the op (or its sign) otherwise."""
    op = data["op"]
    if op in ("symbol", "constant", "boolean"):
        text = sp.sstr(data["expr"])
    else:
        text = _SIGNS.get(op, op)
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 1] + "…"


def _role(data: dict) -> str:
    return data.get("role", "intermediate")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(source, path=None, *, name: str = "symgrad", rankdir: str = "LR",
           title: str | None = None) -> str:
    """The Graphviz ``dot`` text of a computational graph (no dependency needed).

    Args:
        source: a graph from ``sg.graph``, a Model (its ``graph``) or a SymPy expression.
        path: also write the text there.
        rankdir: ``"LR"`` (operands left of their results) or ``"TB"``.
        title: a label above the graph.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> dot = to_dot(x * y + 2)
    >>> [line.strip() for line in dot.splitlines() if "->" in line]
    ['n1 -> n3;', 'n2 -> n3;', 'n0 -> n4;', 'n3 -> n4;']
    >>> print(dot.splitlines()[7])
      n3 [label="×", shape=box, style="rounded,filled", fillcolor="#ffffff", tooltip="x*y"];
    """
    graph = _as_graph(source)
    outputs = set(graph.graph.get("outputs", ()))
    lines = [f"digraph {_quote(name) if not name.isidentifier() else name} {{", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=12, style=filled, penwidth=1.2, width=0.3, height=0.3,'
             ' margin="0.1,0.04"];',
             '  edge [color="#555555", arrowsize=0.7];']
    if title:
        lines.append(f'  label={_quote(title)}; labelloc=t; fontname="Helvetica"; fontsize=14;')
    for node, data in sorted(graph.nodes(data=True)):
        role = _role(data)
        if data["op"] == "symbol":
            shape = "shape=ellipse"
        elif role == "constant":
            shape = "shape=box"
        else:
            shape = 'shape=box, style="rounded,filled"'
        tooltip = sp.sstr(data["expr"])
        tooltip = tooltip if len(tooltip) <= 200 else tooltip[:199] + "…"
        extra = ", peripheries=2" if node in outputs else ""
        lines.append(f"  n{node} [label={_quote(node_label(data))}, {shape}, "
                     f"fillcolor={_quote(ROLE_COLORS[role])}, tooltip={_quote(tooltip)}{extra}];")
    for node, data in sorted(graph.nodes(data=True)):
        for operand in dict.fromkeys(data["operands"]):
            label = _edge_label(graph, operand, node)
            style = f" [label={_quote(label)}, fontsize=9]" if label else ""
            lines.append(f"  n{operand} -> n{node}{style};")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def draw_graph(source, path=None, *, engine: str = "auto", rankdir: str = "LR", title: str | None = None):
    """Draw a computational graph; returns the matplotlib Figure.

    Args:
        source: a graph from ``sg.graph``, a Model (its ``graph``) or a SymPy expression.
        path: also save the picture there: ``.png``, ``.svg`` or ``.pdf`` (written by
            ``dot`` itself when Graphviz draws), or ``.dot`` for the text.
        engine: ``"graphviz"`` (the ``dot`` executable), ``"matplotlib"`` (a layered
            layout: operands in columns left of their results), or ``"auto"``
            (Graphviz when ``dot`` is on the PATH).
    """
    require_matplotlib()
    graph = _as_graph(source)
    dot_path = path is not None and Path(path).suffix.lower() == ".dot"
    if not dot_path:
        check_path(path)
    if engine not in ("auto", "graphviz", "matplotlib"):
        raise DeclarationError(f"engine must be 'auto', 'graphviz' or 'matplotlib', got {engine!r}")
    if engine == "graphviz" and shutil.which("dot") is None:
        raise DeclarationError("engine='graphviz' needs Graphviz's dot executable on the PATH "
                               "(e.g. apt install graphviz); engine='matplotlib' needs nothing")
    if dot_path:
        to_dot(graph, path, rankdir=rankdir)
        path = None
    if engine != "matplotlib" and shutil.which("dot") is not None:
        try:
            return _draw_with_dot(graph, path, rankdir, title)
        except (OSError, subprocess.SubprocessError) as error:
            if engine == "graphviz":
                raise
            warnings.warn(f"Graphviz's dot failed ({error}); drawing with matplotlib instead",
                          RuntimeWarning, stacklevel=2)
    return _draw_with_matplotlib(graph, path, rankdir, title)


def _run_dot(text: str, fmt: str) -> bytes:
    done = subprocess.run(["dot", f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True,
                          timeout=120, check=False)
    if done.returncode != 0 or not done.stdout:
        raise subprocess.SubprocessError(f"dot -T{fmt} exited with {done.returncode}: "
                                         f"{done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _draw_with_dot(graph, path, rankdir, title):
    from matplotlib.image import imread

    # The title goes into the dot text, so that dot's own .svg/.png/.pdf has it too.
    text = to_dot(graph, rankdir=rankdir, title=title)
    png = _run_dot(text, "png")
    image = imread(io.BytesIO(png))
    dpi = 96  # dot's default resolution: the figure shows the image at its size
    height, width = image.shape[:2]
    # One image pixel per figure pixel (also when saved at the figure's dpi): no resampling.
    figure = new_figure(width / dpi, height / dpi, dpi=dpi)
    figure.set_layout_engine("none")
    ax = figure.add_axes((0, 0, 1, 1))
    ax.imshow(image, interpolation="none")
    ax.set_axis_off()
    if path is not None:
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        path.write_bytes(png if fmt == "png" else _run_dot(text, fmt))
    return figure


class GraphLayout(NamedTuple):
    """Where the drawing puts things: ``(layer, slot)`` per drawn node, and each edge's route."""

    nodes: dict          # drawn node -> (layer, slot)
    labels: dict         # drawn node -> graph node it shows
    routes: dict         # (drawn operand, graph node) -> [(layer, slot), ...] from operand to result


def layered_layout(graph: nx.DiGraph, sweeps: int = 6) -> GraphLayout:
    """A layered (Sugiyama-style) layout of a computational graph.

    Columns come from the topological generations, then every node moves
    right as far as its uses allow, so a leaf or a side branch sits one
    column before its first use; a constant is drawn once per use (a shared
    ``2`` is no structure worth long edges). An edge spanning
    several columns runs through a waypoint in each, and a few barycentre
    sweeps order every column to cut crossings.
    """
    drawn = nx.DiGraph()
    labels = {}
    for node, data in graph.nodes(data=True):
        if _role(data) == "constant" and graph.out_degree(node) > 1:
            for user in graph.successors(node):
                labels[(node, user)] = node
                drawn.add_edge((node, user), user)
        else:
            labels[node] = node
            drawn.add_node(node)
    for operand, node in graph.edges:
        if operand in labels:
            drawn.add_edge(operand, node)
    layer = {}
    for depth, generation in enumerate(nx.topological_generations(drawn)):
        for node in generation:
            layer[node] = depth
    # Then as late as the uses allow: a side branch (a leaf, the -t of y - t) sits next
    # to where it is used, not in the first columns with a long edge from there.
    for node in reversed(list(nx.topological_sort(drawn))):
        if drawn.out_degree(node) > 0:
            layer[node] = min(layer[user] for user in drawn.successors(node)) - 1
    low = min(layer.values(), default=0)
    layer = {node: depth - low for node, depth in layer.items()}

    # Waypoints: an edge from column i to column j > i + 1 passes one in every column between.
    routed = nx.DiGraph()
    routed.add_nodes_from(drawn.nodes)
    chains = {}
    for operand, node in drawn.edges:
        chain = [operand] + [("waypoint", operand, node, k) for k in range(layer[operand] + 1, layer[node])]
        for k, waypoint in enumerate(chain[1:], start=layer[operand] + 1):
            layer[waypoint] = k
        nx.add_path(routed, chain + [node])
        chains[(operand, node)] = chain + [node]

    # First order: as a walk back from the outputs meets the nodes, operands in order.
    seen = {}
    outputs = [n for n in graph.graph.get("outputs", ()) if n in routed] or \
        [n for n in routed if routed.out_degree(n) == 0]
    for root in outputs:
        for node in nx.dfs_postorder_nodes(routed.reverse(copy=False), root):
            seen.setdefault(node, len(seen))
    for node in routed:
        seen.setdefault(node, len(seen))
    columns: dict[int, list] = {}
    for node in sorted(routed, key=seen.__getitem__):
        columns.setdefault(layer[node], []).append(node)
    slot = {node: float(k) for nodes in columns.values() for k, node in enumerate(nodes)}
    depths = sorted(columns)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        neighbours = routed.predecessors if forward else routed.successors
        for depth in depths if forward else reversed(depths):
            keys = {}
            for node in columns[depth]:
                around = [slot[m] for m in neighbours(node)]
                keys[node] = float(np.mean(around)) if around else slot[node]
            columns[depth].sort(key=lambda n, keys=keys: (keys[n], slot[n]))
            for k, node in enumerate(columns[depth]):
                slot[node] = float(k)
    widest = max((len(nodes) for nodes in columns.values()), default=1)
    height = {node: slot[node] + (widest - len(columns[layer[node]])) / 2 for node in routed}
    # Then pull every node towards its neighbours' mean height, keeping each column's order
    # and a gap of 1, so that routes run straight and results sit between their operands.
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        neighbours = routed.predecessors if forward else routed.successors
        for depth in depths if forward else reversed(depths):
            wanted = []
            for node in columns[depth]:
                around = [height[m] for m in neighbours(node)]
                wanted.append(float(np.mean(around)) if around else height[node])
            for node, value in zip(columns[depth], _packed(wanted), strict=True):
                height[node] = value
    top = min(height.values(), default=0.0)
    where = {node: (float(layer[node]), height[node] - top) for node in routed}
    routes = {(operand, node): [where[k] for k in chain] for (operand, node), chain in chains.items()}
    return GraphLayout({n: where[n] for n in drawn.nodes}, labels, routes)


def _packed(wanted: list[float], gap: float = 1.0) -> list[float]:
    """Heights as close to ``wanted`` as a simple rule gets, in order and ``gap`` apart."""
    down, up = list(wanted), list(wanted)
    for k in range(1, len(down)):
        down[k] = max(down[k], down[k - 1] + gap)
    for k in range(len(up) - 2, -1, -1):
        up[k] = min(up[k], up[k + 1] - gap)
    # Both satisfy the gaps, so their mean does too.
    return [(a + b) / 2 for a, b in zip(down, up, strict=True)]


def _draw_with_matplotlib(graph, path, rankdir, title):
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    layout = layered_layout(graph)
    spots = layout.nodes.values()
    n_layers = 1 + int(max((p[0] for p in spots), default=0))
    widest = 1 + max((p[1] for p in spots), default=0)
    vertical = rankdir == "TB"
    size = (max(3.0, widest * 1.0 + 1.5), max(2.5, n_layers * 0.9 + 1.2)) if vertical else \
        (max(3.5, n_layers * 1.3 + 1.5), max(2.5, widest * 0.6 + 1.4))
    figure = new_figure(min(size[0], 40.0), min(size[1], 40.0))
    ax = figure.add_subplot()
    ax.set_axis_off()

    def place(spot):
        depth, slot = spot
        return (slot, -depth) if vertical else (depth, -slot)

    outputs = set(graph.graph.get("outputs", ()))
    fontsize = 10 if len(layout.nodes) <= 60 else 7
    boxes = {}
    for drawn, spot in layout.nodes.items():
        node = layout.labels[drawn]
        data = graph.nodes[node]
        role = _role(data)
        style = "round,pad=0.35" if data["op"] == "symbol" else \
            "round4,pad=0.3" if role == "intermediate" else "square,pad=0.3"
        boxes[drawn] = ax.text(*place(spot), node_label(data), ha="center", va="center", fontsize=fontsize,
                               zorder=3, bbox=dict(boxstyle=style, fc=ROLE_COLORS[role], ec="black",
                                                   lw=2.2 if node in outputs else 0.8))
    line = dict(color="#555555", lw=0.9)
    for (operand, node), route in layout.routes.items():
        points = [place(spot) for spot in route]
        if len(points) > 2:
            # Through the waypoints as a smooth curve: quadratic pieces between segment midpoints.
            middle = [((x0 + x1) / 2, (y0 + y1) / 2)
                      for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False)]
            vertices = [middle[0]]
            for corner, end in zip(points[1:-1], middle[1:], strict=True):
                vertices += [corner, end]
            codes = [MplPath.MOVETO] + [MplPath.CURVE3] * (len(vertices) - 1)
            ax.add_patch(PathPatch(MplPath(vertices, codes), fill=False, ec=line["color"], lw=line["lw"],
                                   zorder=2))
            ax.annotate("", xy=middle[0], xytext=points[0], zorder=2,
                        arrowprops=dict(arrowstyle="-", shrinkA=0, shrinkB=0,
                                        patchA=boxes[operand].get_bbox_patch(), **line))
            start = middle[-1]
        else:
            start = points[0]
        ax.annotate("", xy=points[-1], xytext=start, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", shrinkA=0, shrinkB=0,
                                    patchA=boxes[operand].get_bbox_patch() if len(points) == 2 else None,
                                    patchB=boxes[node].get_bbox_patch(), **line))
        label = _edge_label(graph, layout.labels[operand], node)
        if label:
            (x0, y0), (x1, y1) = start, points[-1]
            ax.text(x0 + 0.6 * (x1 - x0), y0 + 0.6 * (y1 - y0), label, fontsize=7, color="#333333",
                    ha="center", va="bottom", zorder=4)
    xs, ys = zip(*(place(s) for s in spots), strict=True) if spots else ((0,), (0,))
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    roles = [r for r in ROLE_COLORS if any(_role(d) == r for _, d in graph.nodes(data=True))]
    handles = [Patch(fc=ROLE_COLORS[r], ec="black", lw=0.8, label="op" if r == "intermediate" else r)
               for r in roles] + [Patch(fc="white", ec="black", lw=2.2, label="output")]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small",
                  frameon=False)
    ax.set_title(title or f"computational graph: {len(graph)} nodes, {graph.number_of_edges()} edges")
    return finish(figure, path)


def _edge_label(graph, operand, node) -> str:
    """The operand position(s), for ops whose operand order matters (Pow: base 0, exponent 1)."""
    data = graph.nodes[node]
    if data["op"] in _COMMUTATIVE or len(data["operands"]) < 2:
        return ""
    return ",".join(map(str, graph.edges[operand, node].get("positions", ())))
