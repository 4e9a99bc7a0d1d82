"""The notebooks in examples/ run top to bottom (nbclient, a real Jupyter kernel), and
what they draw with Run.figure() keeps its animation."""

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from optviz import Scene, simulate

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_there_are_the_three_lecture_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["initialization.ipynb", "lr_diagnostics.ipynb",
                                           "momentum_valley.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_every_cell(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))      # the kernel imports this checkout
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert figures, "Run.figure() shows as a Plotly figure"
    if path.stem == "initialization":             # a network: its plane and its curves
        fig = figures[0]["data"]["application/vnd.plotly.v1+json"]
        kinds = [t["type"] for t in fig["data"]]
        assert kinds[0] == "contour" and kinds.count("scatter") == 3 + 2 * 3
        assert "% of the variance" in fig["layout"]["xaxis"]["title"]["text"]
        text = "".join(o.get("text", "") for o in outputs)
        assert "units that differ from the first: 0" in text        # zeros stay symmetric
        return
    animated = figures[0]["data"]["application/vnd.plotly.v1+json"]
    assert len(animated["frames"]) > 50 and animated["layout"]["sliders"]
    assert animated["layout"]["images"][0]["source"].startswith("data:image/png")


def test_run_to_frame_is_the_long_table():
    run = simulate(Scene("bowl", ["gd", "adam"], starts=[(1, 1), (-2, 0.5)], steps=20))
    df = run.to_frame()
    assert list(df.columns) == ["row", "label", "optimizer", "start", "step", "x", "y",
                                "loss", "lr"]
    assert len(df) == 2 * 2 * 21
    one = df[(df.row == 1) & (df.start == 1)]
    np.testing.assert_array_equal(one[["x", "y"]].to_numpy(), run.path[1, 1])
    np.testing.assert_array_equal(one.loss.to_numpy(), run.loss[1, 1])
    np.testing.assert_array_equal(one.lr.to_numpy()[:-1], run.lr[1])
    assert np.isnan(one.lr.to_numpy()[-1]) and set(df.optimizer) == {"gd", "adam"}


def test_without_pandas_to_frame_says_what_to_install(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_pandas(name, *a, **k):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    run = simulate(Scene("bowl", ["gd"], steps=5))
    with pytest.raises(ImportError, match="pip install pandas"):
        run.to_frame()
