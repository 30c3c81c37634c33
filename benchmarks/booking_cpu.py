"""Where one booking's CPU goes, per process, in both architectures, measured in one run.

Runs benchmarks/booking_cpu.yaml through the harness (bookings only, open loop, both
architectures interleaved over repeats), then prints CPU-milliseconds per booking of every
process (sampled by the harness once a second, interpolated at the measured window's ends), the
system's total and the ratio of the totals, from that run.

Usage: .venv/bin/python benchmarks/booking_cpu.py [--out DIR]
       .venv/bin/python benchmarks/booking_cpu.py --from DIR   (print a finished run again)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.results.rundir import load_run_folder
from harness.results.summary import GENERATOR, component_cpu_table

HERE = Path(__file__).resolve().parent


def table(run_dir: Path) -> str:
    cpu = component_cpu_table(load_run_folder(run_dir))
    architectures = list(dict.fromkeys(cpu["architecture"]))
    components = sorted(set(cpu["component"]) - {GENERATOR})
    lines = ["| process | " + " | ".join(architectures) + " |",
             "|---|" + "---|" * len(architectures)]
    by = {(r.architecture, r.component): r.cpu_ms_per_request for r in cpu.itertuples()}
    for component in [*components, GENERATOR]:
        cells = [f"{by[(a, component)]:.2f}" if (a, component) in by else "" for a in architectures]
        lines.append(f"| {component} | " + " | ".join(cells) + " |")
    totals = {a: sum(v for (arch, c), v in by.items() if arch == a and c != GENERATOR)
              for a in architectures}
    lines.append("| **system total** | " + " | ".join(f"{totals[a]:.2f}" for a in architectures) + " |")
    if len(architectures) == 2 and totals[architectures[0]]:
        lines.append(f"\n{architectures[1]} / {architectures[0]}: "
                     f"{totals[architectures[1]] / totals[architectures[0]]:.2f}x CPU per booking")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="run folder to create (default: a temporary one)")
    parser.add_argument("--from", dest="existing", type=Path, help="print this finished run")
    args = parser.parse_args()
    run_dir = args.existing
    if run_dir is None:
        run_dir = args.out or Path(tempfile.mkdtemp(prefix="booking-cpu-")) / "run"
        command = [sys.executable, "-m", "harness", "run", str(HERE / "booking_cpu.yaml"),
                   "--out", str(run_dir)]
        subprocess.run(command, check=True)
    print(f"CPU-ms per booking, by process ({run_dir}):\n")
    print(table(run_dir))


if __name__ == "__main__":
    main()
