"""The computational graph as dot text, through Graphviz, and with matplotlib alone."""

import shutil
import stat
import sys

import pytest
import sympy as sp

import symgrad as sg
from symgrad.viz import draw_graph, layered_layout, to_dot
from symgrad.viz import graphdraw as graphdraw_module

from .conftest import PNG_MAGIC, assert_png

HAS_DOT = shutil.which("dot") is not None


@pytest.fixture(scope="module")
def gates():
    """Seed 002: f = 2(xy + max(z, w))."""
    x, y, z, w = sp.symbols("x y z w")
    return 2 * (x * y + sp.Max(z, w))


def test_dot_text_has_every_node_and_edge(seed003, tmp_path):
    model, _ = seed003
    graph = model.graph
    text = to_dot(model, tmp_path / "net.dot")
    assert (tmp_path / "net.dot").read_text() == text
    assert text.startswith("digraph symgrad {") and text.rstrip().endswith("}")
    for node, data in graph.nodes(data=True):
        line = next(line for line in text.splitlines() if line.startswith(f"  n{node} ["))
        assert f'label="{graphdraw_module.node_label(data)}"' in line
    for operand, node in graph.edges:
        assert f"  n{operand} -> n{node}" in text
    assert text.count("->") == graph.number_of_edges()
    assert text.count("peripheries=2") == 1  # the output
    # leaves coloured by role
    w53 = next(n for n, d in graph.nodes(data=True) if d["expr"] == sp.Symbol("w53"))
    assert 'fillcolor="#f4a261"' in next(line for line in text.splitlines() if line.startswith(f"  n{w53} ["))


def test_dot_text_quotes_names_and_labels_operand_positions():
    base, odd = sp.symbols('x a"b')
    text = to_dot(base**odd)
    assert r'label="a\"b"' in text
    assert '[label="0", fontsize=9]' in text and '[label="1", fontsize=9]' in text  # Pow: base, exponent
    assert 'label="the \\"power\\""; labelloc=t;' in to_dot(base**odd, title='the "power"')


def test_matplotlib_drawing_labels_every_node(gates, tmp_path):
    path = tmp_path / "gates.png"
    figure = draw_graph(gates, path, engine="matplotlib")
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.texts]
    graph = sg.graph(gates)
    for _, data in graph.nodes(data=True):
        assert graphdraw_module.node_label(data) in labels
    assert labels.count("2") == 2  # the shared constant is drawn at each of its two uses
    assert ax.get_title() == "computational graph: 9 nodes, 9 edges"
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["variable", "constant", "op", "output"]
    assert_png(path, min_kb=10)


def test_layout_puts_operands_before_results(seed003):
    model, _ = seed003
    layout = layered_layout(model.graph)
    column = {layout.labels[drawn]: spot[0] for drawn, spot in layout.nodes.items()}
    for operand, node in model.graph.edges:
        assert column[operand] < column[node]
    for route in layout.routes.values():
        assert [spot[0] for spot in route] == list(range(int(route[0][0]), int(route[-1][0]) + 1))


def test_model_roles_in_the_legend(logreg):
    figure = draw_graph(logreg, engine="matplotlib", title="logistic regression")
    assert figure.axes[0].get_title() == "logistic regression"
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["param", "input", "target", "constant",
                                                                     "op", "output"]


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_graphviz_writes_svg_and_png(gates, tmp_path):
    figure = draw_graph(gates, tmp_path / "gates.svg", engine="graphviz")
    assert "<svg" in (tmp_path / "gates.svg").read_text()
    assert figure.axes[0].images  # dot's PNG shown in the figure
    draw_graph(gates, tmp_path / "gates.png", engine="graphviz")
    assert (tmp_path / "gates.png").read_bytes()[:8] == PNG_MAGIC


def _fake_dot(directory, script: str):
    dot = directory / "dot"
    dot.write_text(f"#!{sys.executable}\nimport sys\n{script}\n")
    dot.chmod(dot.stat().st_mode | stat.S_IEXEC)
    return dot


def test_dot_is_run_as_a_subprocess(gates, tmp_path, monkeypatch):
    """A stand-in dot that records its input and answers with a PNG."""
    image = tmp_path / "answer.png"
    draw_graph(gates, image, engine="matplotlib")
    _fake_dot(tmp_path, f"open({str(tmp_path / 'input.dot')!r}, 'w').write(sys.stdin.read())\n"
                        f"sys.stdout.buffer.write(open({str(image)!r}, 'rb').read())")
    monkeypatch.setenv("PATH", str(tmp_path))
    figure = draw_graph(gates, tmp_path / "out.png")  # auto: dot is on the PATH
    assert (tmp_path / "input.dot").read_text() == to_dot(gates)
    assert (tmp_path / "out.png").read_bytes() == image.read_bytes()
    assert figure.axes[0].images


def test_a_failing_dot_falls_back_with_a_warning(gates, tmp_path, monkeypatch):
    _fake_dot(tmp_path, "sys.stderr.write('broken'); sys.exit(3)")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.warns(RuntimeWarning, match="broken"):
        figure = draw_graph(gates)
    assert figure.axes[0].texts  # drawn by matplotlib
    with pytest.raises(Exception, match="exited with 3"):
        draw_graph(gates, engine="graphviz")


def test_graphviz_engine_without_dot(gates, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sg.errors.DeclarationError, match="needs Graphviz's dot"):
        draw_graph(gates, engine="graphviz")
    draw_graph(gates, tmp_path / "g.dot")  # the text needs nothing
    assert (tmp_path / "g.dot").read_text() == to_dot(gates)
