"""``symgrad graph`` and ``symgrad landscape``: pictures written to files."""

from __future__ import annotations

from pathlib import Path

from ..errors import DeclarationError
from . import arguments
from .models import add_point_options

__all__ = ["register"]


def register(commands) -> None:
    parser = commands.add_parser("graph", help="draw the computational graph of an expression or model",
                                 description="Write the computational graph as Graphviz text (.dot, no "
                                             "dependencies) or a picture (.svg/.png/.pdf: Graphviz when "
                                             "installed, else matplotlib from symgrad[viz]).",
                                 epilog='example: symgrad graph "2*(x*y + Max(z, w))" -o graph.svg')
    parser.add_argument("source", metavar="EXPR|MODEL", help="an expression, or a .toml/.py model file")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    parser.set_defaults(run=_graph)

    parser = commands.add_parser("landscape", help="the loss along random directions (needs symgrad[viz])",
                                 description="Plot J(θ + aθ₁) (--dims 1) or J(θ + aθ₁ + bθ₂) (--dims 2) "
                                             "along seeded random directions, as in the lecture notes.",
                                 epilog="example: symgrad landscape examples/models/logistic.toml "
                                        "-o land.png")
    parser.add_argument("model", metavar="MODEL", help="a .toml or .py model file")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.png")
    parser.add_argument("--data", metavar="FILE", help="CSV or NPZ samples (default: the file's [data])")
    parser.add_argument("--dims", type=int, choices=(1, 2), default=1)
    parser.add_argument("--seed", type=int, default=0)
    add_point_options(parser)
    parser.set_defaults(run=_landscape)


def _graph(args, out) -> None:
    from .. import viz  # noqa: F401 - imports no matplotlib until a picture is drawn
    from ..api import graph
    from ..viz import draw_graph, to_dot

    if arguments.is_model_file(args.source):
        loaded = arguments.model_file(args.source)
        G, title = loaded.model.graph, Path(args.source).name
    else:
        expr, _ = arguments.expression(args.source)
        G, title = graph(expr), args.source
    path = Path(args.output)
    if path.suffix == ".dot":
        to_dot(G, path=path, title=title)
    elif path.suffix in (".svg", ".png", ".pdf"):
        draw_graph(G, path=path, title=title)
    else:
        raise DeclarationError(f"{args.output}: write .dot, .svg, .png or .pdf")
    out.write(f"wrote {path} ({G.number_of_nodes()} nodes)\n")


def _landscape(args, out) -> None:
    from ..viz import landscape_1d, landscape_2d

    loaded = arguments.model_file(args.model, args.data)
    theta = arguments.point(loaded, args.at, args.params, args.seed)
    data = loaded.load_data() if loaded.model.inputs or loaded.model.targets else ()
    draw = landscape_1d if args.dims == 1 else landscape_2d
    picture = draw(loaded.model, theta, *data, seed=args.seed, path=args.output)
    out.write(f"wrote {args.output}: loss from {picture.values.min():.6g} to {picture.values.max():.6g}\n")
