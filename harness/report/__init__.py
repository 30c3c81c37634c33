"""Reports of a run folder: summary.csv, aggregate.csv, plots/*.png, report.md and a self-contained
report.html (`build`), and a Markdown comparison of two runs (`compare`)."""

from __future__ import annotations

import time
from pathlib import Path

from harness.report.compare import compare
from harness.report.plots import draw_all
from harness.report.render import Bullets, Paragraph, to_html, to_markdown
from harness.report.sections import report_blocks, title_of
from harness.results import provenance
from harness.results.rundir import RunFolder, load_run_folder
from harness.results.summary import Tables, compute_tables

__all__ = ["build", "compare", "write_tables"]


def build(run_dir: Path, *, by: str = "archbench report") -> Path:
    """Write the report artifacts into run_dir and return the path of report.html; provenance.json
    records that `by` wrote them, with this revision.

    An incomplete run folder builds too, with a notice at the top naming what is missing; a folder that
    is not a run folder (no run.json) or whose run.json is truncated raises HarnessError.
    """
    run_dir = Path(run_dir)
    started = time.time()
    made = provenance.stamp(by)
    folder, tables = write_tables(run_dir)
    figures: dict[str, Path] = {}
    if not tables.summary.empty:
        figures = draw_all(folder, tables.aggregate, tables.steps, run_dir / "plots")
    blocks = report_blocks(folder, tables, figures)
    # under the header (its first bullets), which names the run's own revision
    header = next((i for i, b in enumerate(blocks) if isinstance(b, Bullets)), 0)
    blocks.insert(header + 1, Paragraph(_made_by(made, provenance.read(run_dir)["run"]["revision"])))
    (run_dir / "report.md").write_text(to_markdown(blocks, run_dir))
    html_path = run_dir / "report.html"
    html_path.write_text(to_html(blocks, title_of(folder)))
    written = [run_dir / name for name in ("summary.csv", "aggregate.csv", "report.md", "report.html")]
    # every plot this build drew, the report's sections' own (faults.png) included
    written += [p for p in sorted((run_dir / "plots").glob("*.png"))
                if p.stat().st_mtime >= started - 1]
    provenance.record(run_dir, written, by)
    return html_path


def _made_by(made: dict[str, object], run_revision: str) -> str:
    text = f"Report written by revision `{str(made['revision'])[:12]}` ({made['by']}, {made['written_at']})"
    if made["regenerated"]:
        text += (f", regenerated from the measurements that revision `{run_revision[:12]}` made; "
                 "`provenance.json` lists which code wrote each file")
    return text + "."



def write_tables(run_dir: Path) -> tuple[RunFolder, Tables]:
    """summary.csv and aggregate.csv of a run folder (what the scorecard judges performance on)."""
    folder = load_run_folder(Path(run_dir))
    tables = compute_tables(folder)
    tables.summary.to_csv(folder.path / "summary.csv", index=False)
    tables.aggregate.to_csv(folder.path / "aggregate.csv", index=False)
    return folder, tables
