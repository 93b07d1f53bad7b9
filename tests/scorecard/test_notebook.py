"""notebooks/sla_analysis.ipynb runs top to bottom on its own generated database."""
from __future__ import annotations

import pytest

import pathlib

import nbformat
from nbclient import NotebookClient

NB = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "sla_analysis.ipynb"


@pytest.mark.slow
def test_sla_notebook_executes(tmp_path):
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NB.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "second run changed anything: False" in text
    assert "chart drawn for 5 weeks" in text
