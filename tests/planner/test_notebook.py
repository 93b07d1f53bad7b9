"""The walkthrough notebook runs top to bottom."""
import pathlib

import pytest

import nbformat
from nbclient import NotebookClient

NB = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "planner_walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_executes(tmp_path):
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "NO-SKILL skills" in text and "NIGHT time_window" in text
