"""Commands on a model file: ``explain``, ``check``, ``train``, ``emit``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DeclarationError
from . import arguments

__all__ = ["register", "add_point_options"]


def add_point_options(parser) -> None:
    parser.add_argument("--at", metavar="W1=0.1,...", help="parameter values (others from --params/[init])")
    parser.add_argument("--params", metavar="FILE.npz", help="parameters saved by symgrad train --out")


def register(commands) -> None:
    parser = commands.add_parser("explain", help="the chain rule for one parameter of a model",
                                 description="Print the chain-rule breakdown of the loss's derivative "
                                             "with respect to PARAM: the δ terms of backpropagation.",
                                 epilog="example: symgrad explain examples/models/seed003.toml w53")
    parser.add_argument("model", metavar="MODEL", help="a .toml or .py model file")
    parser.add_argument("param", metavar="PARAM", help="the parameter's name")
    parser.add_argument("--at", metavar="NAME=VALUE,...",
                        help="values of symbols (parameters, inputs, targets) to show numbers")
    parser.set_defaults(run=_explain)

    parser = commands.add_parser("check", help="check a model's compiled gradient with finite differences",
                                 description="Compare the compiled exact gradient with finite differences "
                                             "at a point; exit status 1 if any parameter fails.",
                                 epilog="example: symgrad check examples/models/logistic.toml")
    parser.add_argument("model", metavar="MODEL", help="a .toml or .py model file")
    parser.add_argument("--data", metavar="FILE", help="CSV or NPZ samples (default: the file's [data])")
    parser.add_argument("--rows", type=int, default=64, help="samples to check on (default 64)")
    parser.add_argument("--method", default="central",
                        choices=("central", "forward", "backward", "richardson", "complex"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the default point")
    add_point_options(parser)
    parser.set_defaults(run=_check)

    parser = commands.add_parser("train", help="train a model file on its data",
                                 description="Train the model with sg.fit (sg.minimize for a data-free "
                                             "objective); options override the file's settings.",
                                 epilog="example: symgrad train examples/models/logistic.toml "
                                        "--optimizer adam --lr 0.05 --epochs 20 --batch-size 32 "
                                        "--out params.npz")
    parser.add_argument("model", metavar="MODEL", help="a .toml or .py model file")
    parser.add_argument("--data", metavar="FILE", help="CSV or NPZ samples (default: the file's [data])")
    parser.add_argument("--optimizer", metavar="NAME",
                        help="gd, sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, adamax, "
                             "nadam, amsgrad, newton")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="omit for full-batch gradient descent")
    parser.add_argument("--max-iter", type=int)
    parser.add_argument("--tol", type=float, help="stop when the gradient norm is at most this")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--checkpoint", metavar="FILE.npz", help="save a checkpoint as it runs")
    parser.add_argument("--resume", metavar="FILE.npz", help="continue from a checkpoint")
    parser.add_argument("--out", metavar="FILE.npz", help="save theta, each parameter and the history")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="always show a progress bar")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show a progress bar (default: only on a terminal)")
    parser.set_defaults(run=_train)

    parser = commands.add_parser("emit", help="write a standalone training script (numpy + numba only)",
                                 description="Write the model's kernels and a training loop as one module.",
                                 epilog="example: symgrad emit examples/models/logistic.toml "
                                        "-o train_model.py")
    parser.add_argument("model", metavar="MODEL", help="a .toml or .py model file")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.py")
    parser.add_argument("--optimizer", choices=("adam", "gd"), default="adam")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int)
    parser.set_defaults(run=_emit)


def _explain(args, out) -> None:
    loaded = arguments.model_file(args.model)
    symbols = loaded.symbols
    if args.param not in symbols or symbols[args.param] not in loaded.model.params:
        raise DeclarationError(f"{args.param} is not a parameter of {args.model}; the parameters are "
                               f"{[str(p) for p in loaded.model.params]}")
    at = arguments.assignments(args.at)
    unknown = [name for name in at if name not in symbols]
    if unknown:
        raise DeclarationError(f"--at: {unknown} are not symbols of {args.model}")
    at = {symbols[name]: value for name, value in at.items()} or None
    out.write(str(loaded.model.explain(symbols[args.param], at=at, names=loaded.names)) + "\n")


def _check(args, out) -> int:
    from ..check import gradcheck

    loaded = arguments.model_file(args.model, args.data)
    theta = arguments.point(loaded, args.at, args.params, args.seed)
    data = ()
    if loaded.model.inputs or loaded.model.targets:
        X, T = loaded.load_data()
        data = (X[: args.rows], T[: args.rows])
    report = gradcheck(loaded.model, theta, *data, method=args.method, seed=args.seed)
    out.write(str(report) + "\n")
    return 0 if report.ok else 1


def _train(args, out) -> None:
    from ..files.settings import build_optimizer

    loaded = arguments.model_file(args.model, args.data)
    overrides = {key: value for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                               ("max_iter", args.max_iter), ("tol", args.tol),
                                               ("seed", args.seed), ("checkpoint", args.checkpoint),
                                               ("resume", args.resume), ("progress", args.progress))
                 if value is not None}
    if args.optimizer or args.lr is not None:
        base = loaded.optimizer
        name = args.optimizer or (type(base).__name__ if base is not None else "Adam")
        options = {"name": name, **({"lr": args.lr} if args.lr is not None else {})}
        overrides["optimizer"] = build_optimizer(options, where="--optimizer/--lr")
    result = loaded.run(**overrides)
    out.write(f"{result.reason} after {result.n_iter} steps ({result.n_epochs} epochs, "
              f"{result.elapsed:.3g} s): loss {result.loss:.6g}, |grad| {result.grad_norm:.3g}\n")
    for symbol, value in result.params.items():
        out.write(f"  {symbol} = {value:.10g}\n")
    if args.out:
        history = {f"history_{k}": v for k, v in result.history.to_dict().items()}
        np.savez(Path(args.out), theta=result.theta, names=np.array([str(p) for p in result.params]),
                 **history)
        out.write(f"saved {args.out}\n")


def _emit(args, out) -> None:
    from ..api import emit

    loaded = arguments.model_file(args.model)
    path = emit(loaded.model, args.output, optimizer=args.optimizer, epochs=args.epochs,
                batch_size=args.batch_size)
    out.write(f"wrote {path}: run it as python {path.name} data.npz\n")
