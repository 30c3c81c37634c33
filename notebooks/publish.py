"""Publish the notebooks as HTML pages a browser shows with their outputs: each notebook of this
folder, executed against a run folder (default: the committed sample), is written to
`<run folder>/notebooks/<name>.html` by nbconvert, with a first cell saying which revision ran it
against which folder. The notebooks themselves stay committed without outputs.

    .venv/bin/python notebooks/publish.py [RUN_DIR] [NOTEBOOK ...]     (or: make notebooks)

Needs the dev extra (nbclient, nbconvert, ipykernel): `make install`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from harness.results import provenance  # noqa: E402

BY = "make notebooks"


def publish(notebook: Path, run_dir: Path, timeout: int = 600) -> Path:
    """Execute `notebook` against `run_dir` and write its HTML into `run_dir/notebooks/`."""
    run_dir = run_dir.resolve()
    executed = nbformat.read(notebook, as_version=4)
    # what the notebooks read: the run folder, and its calibration for the simulation one
    os.environ["ARCHBENCH_RUN_DIR"] = str(run_dir)
    os.environ["ARCHBENCH_CALIBRATION"] = str(run_dir)
    NotebookClient(executed, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    if errors:
        raise SystemExit(f"{notebook.name} failed: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    made = provenance.stamp(BY)
    executed.cells.insert(0, nbformat.v4.new_markdown_cell(
        f"*`notebooks/{notebook.name}`, executed against `{provenance.portable(run_dir)}` by "
        f"revision `{made['revision'][:12]}` on {made['written_at']} (`{BY}`). The notebook is "
        "committed without outputs; run it yourself with Jupyter, or `make notebooks` to "
        "publish it again.*"))
    html, _ = HTMLExporter().from_notebook_node(executed)
    out = run_dir / "notebooks" / f"{notebook.stem}.html"
    out.parent.mkdir(exist_ok=True)
    out.write_text(html)
    provenance.record(run_dir, [out], BY)
    return out


def main(argv: list[str]) -> None:
    run_dir = Path(argv[0]) if argv else ROOT / "results" / "sample"
    notebooks = [Path(a) for a in argv[1:]] or sorted(HERE.glob("*.ipynb"))
    for notebook in notebooks:
        print(publish(notebook.resolve(), run_dir), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
