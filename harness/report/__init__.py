"""Reports of a run folder: summary.csv, aggregate.csv, plots/*.png, report.md and a self-contained
report.html (`build`), and a Markdown comparison of two runs (`compare`)."""

from __future__ import annotations

from pathlib import Path

from harness.report.compare import compare
from harness.report.plots import draw_all
from harness.report.render import to_html, to_markdown
from harness.report.rundir import load_run_folder
from harness.report.sections import report_blocks, title_of
from harness.report.summary import compute_tables

__all__ = ["build", "compare"]


def build(run_dir: Path) -> Path:
    """Write the report artifacts into run_dir and return the path of report.html.

    An incomplete run folder builds too, with a notice at the top naming what is missing; a folder that
    is not a run folder (no run.json) or whose run.json is truncated raises HarnessError.
    """
    run_dir = Path(run_dir)
    folder = load_run_folder(run_dir)
    tables = compute_tables(folder)
    tables.summary.to_csv(run_dir / "summary.csv", index=False)
    tables.aggregate.to_csv(run_dir / "aggregate.csv", index=False)
    figures: dict[str, Path] = {}
    if not tables.summary.empty:
        figures = draw_all(folder, tables.aggregate, tables.steps, run_dir / "plots")
    blocks = report_blocks(folder, tables, figures)
    (run_dir / "report.md").write_text(to_markdown(blocks, run_dir))
    html_path = run_dir / "report.html"
    html_path.write_text(to_html(blocks, title_of(folder)))
    return html_path

