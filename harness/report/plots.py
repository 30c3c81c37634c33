"""The report's figures as PNG files, drawn with matplotlib's Agg canvas (no display, no pyplot state).
Every latency bar carries its 95% bootstrap interval as an error bar, the CPU bars their min-max range
over repeats; a percentile the sample is too small for has no bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.results.rundir import RunFolder
from harness.results.summary import GENERATOR, NOT_A_REQUEST, architecture_order

OVER_TIME_OPERATIONS = ["book_e2e", "search_availability"]


def draw_all(folder: RunFolder, aggregate: pd.DataFrame, steps: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Draw every figure there is data for; returns caption → PNG path."""
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    for step in sorted(aggregate["step"].unique()):
        suffix = _step_suffix(aggregate, step)
        at_step = aggregate[aggregate["step"] == step]
        figures[f"Latency percentiles per operation{suffix}"] = percentile_bars(
            at_step, out / f"percentiles_s{step}.png"
        )
        windows = _windows(folder, step)
        if not windows.empty:
            figures[f"Latency over time{suffix}"] = latency_over_time(windows, out / f"latency_s{step}.png")
            figures[f"Throughput over time{suffix}"] = throughput_over_time(
                windows, out / f"throughput_s{step}.png"
            )
    if steps["cpu_s_per_1k"].notna().any():
        figures["CPU-seconds per 1,000 requests (system under test)"] = cpu_per_1k(
            steps, out / "cpu_per_1k.png"
        )
    rss = rss_by_component(folder)
    if not rss.empty:
        figures["Resident memory per component"] = rss_bars(rss, out / "rss.png")
    return figures


def _step_suffix(aggregate: pd.DataFrame, step: int) -> str:
    if aggregate["step"].nunique() < 2:
        return ""
    rate = aggregate.loc[aggregate["step"] == step, "offered_rate"].iloc[0]
    return f" — step {step}" + (f" ({rate:g} req/s offered)" if pd.notna(rate) else "")


def percentile_bars(at_step: pd.DataFrame, path: Path) -> Path:
    architectures = architecture_order(set(at_step["architecture"]))
    operations = list(dict.fromkeys(at_step["operation"]))
    fig = figure(width=max(8.0, 1.3 * len(operations)), height=6.5)
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(operations))
    width = 0.8 / max(len(architectures), 1)
    for ax, metric in zip(axes, ("p50_ms", "p99_ms"), strict=True):
        for i, architecture in enumerate(architectures):
            rows = at_step[at_step["architecture"] == architecture].set_index("operation").reindex(operations)
            values = rows[metric].to_numpy(dtype=float)
            # a percentile interval need not contain the median of the repeats: never a negative bar
            errors = np.maximum(0, np.vstack([
                values - rows[f"{metric}_lo"].to_numpy(dtype=float),
                rows[f"{metric}_hi"].to_numpy(dtype=float) - values,
            ]))
            ax.bar(x + (i - (len(architectures) - 1) / 2) * width, values, width, yerr=errors, capsize=3,
                   label=architecture)
        ax.set_ylabel(f"{metric.removesuffix('_ms')} (ms)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    axes[0].set_title("Latency per operation (median of repeats; error bars: 95% interval)")
    axes[1].set_xticks(x, operations, rotation=20, ha="right")
    return save(fig, path)


def _windows(folder: RunFolder, step: int) -> pd.DataFrame:
    frames = []
    for run in folder.runs:
        if run.step != step or run.windows.empty:
            continue
        windows = run.windows.copy()
        windows["t"] = windows["window_start_s"] - windows["window_start_s"].min()
        windows["architecture"], windows["repeat"] = run.architecture, run.repeat
        frames.append(windows)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def latency_over_time(windows: pd.DataFrame, path: Path) -> Path:
    operations = [op for op in OVER_TIME_OPERATIONS if op in set(windows["operation"])] or [
        windows["operation"].iloc[0]
    ]
    fig = figure(width=10, height=3.5 * len(operations))
    axes = np.atleast_1d(fig.subplots(len(operations), 1, sharex=True))
    colors = _colors(windows)
    for ax, operation in zip(axes, operations, strict=True):
        of_op = windows[windows["operation"] == operation]
        for (architecture, repeat), series in of_op.groupby(["architecture", "repeat"]):
            series = series.sort_values("t")
            first = repeat == of_op.loc[of_op["architecture"] == architecture, "repeat"].min()
            ax.plot(series["t"], series["p50_ms"], color=colors[architecture], lw=1,
                    label=f"{architecture} p50" if first else None)
            ax.plot(series["t"], series["p99_ms"], color=colors[architecture], lw=1, ls="--",
                    label=f"{architecture} p99" if first else None)
        ax.set_title(f"{operation}: p50 (solid) and p99 (dashed) per window, one line per repeat")
        ax.set_ylabel("ms")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    axes[-1].set_xlabel("seconds into the measured period (warm-up discarded)")
    return save(fig, path)


def throughput_over_time(windows: pd.DataFrame, path: Path) -> Path:
    requests = windows[~windows["operation"].isin(NOT_A_REQUEST)]
    fig = figure(width=10, height=4)
    ax = fig.subplots()
    colors = _colors(windows)
    for (architecture, repeat), series in requests.groupby(["architecture", "repeat"]):
        per_window = series.groupby("t")["count"].sum().sort_index()
        width = float(np.median(np.diff(per_window.index))) if len(per_window) > 1 else 1.0
        first = repeat == requests.loc[requests["architecture"] == architecture, "repeat"].min()
        ax.plot(per_window.index, per_window.to_numpy() / width, color=colors[architecture], lw=1,
                label=architecture if first else None)
    ax.set_title("Achieved throughput per window (one line per repeat)")
    ax.set_xlabel("seconds into the measured period (warm-up discarded)")
    ax.set_ylabel("requests/s")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def cpu_per_1k(steps: pd.DataFrame, path: Path) -> Path:
    architectures = architecture_order(set(steps["architecture"]))
    step_ids = sorted(steps["step"].unique())
    fig = figure(width=max(6.0, 1.5 * len(step_ids) * len(architectures)), height=4)
    ax = fig.subplots()
    x = np.arange(len(step_ids))
    width = 0.8 / len(architectures)
    for i, architecture in enumerate(architectures):
        rows = steps[steps["architecture"] == architecture].set_index("step").reindex(step_ids)
        values = rows["cpu_s_per_1k"].to_numpy(dtype=float)
        errors = np.vstack([values - rows["cpu_s_per_1k_min"].to_numpy(dtype=float),
                            rows["cpu_s_per_1k_max"].to_numpy(dtype=float) - values])
        ax.bar(x + (i - (len(architectures) - 1) / 2) * width, values, width, yerr=errors, capsize=3,
               label=architecture)
    labels = [
        f"s{s} ({rate:g}/s)" if pd.notna(rate := steps.loc[steps["step"] == s, "offered_rate"].iloc[0])
        else f"s{s}"
        for s in step_ids
    ]
    ax.set_xticks(x, labels)
    ax.set_ylabel("CPU-seconds per 1,000 requests")
    ax.set_title("Efficiency of the system under test (generator excluded; error bars: min-max)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return save(fig, path)


def rss_by_component(folder: RunFolder) -> pd.DataFrame:
    """Median RSS (MiB) per architecture, step and component over the measured window, median of repeats."""
    rows = []
    for run in folder.runs:
        metrics = run.metrics
        if metrics.empty:
            continue
        start, end = run.info.get("measured_from"), run.info.get("measured_to")
        if start is not None and end is not None:
            inside = metrics[(metrics["t"] >= start) & (metrics["t"] <= end)]
            metrics = inside if not inside.empty else metrics
        for component, samples in metrics[metrics["component"] != GENERATOR].groupby("component"):
            rows.append({"architecture": run.architecture, "step": run.step, "repeat": run.repeat,
                         "component": component, "rss_mib": samples["rss_bytes"].median() / 2**20})
    if not rows:
        return pd.DataFrame(columns=["architecture", "step", "component", "rss_mib"])
    frame = pd.DataFrame(rows)
    return frame.groupby(["architecture", "step", "component"], as_index=False)["rss_mib"].median()


def rss_bars(rss: pd.DataFrame, path: Path) -> Path:
    bars = [(a, s) for a in architecture_order(set(rss["architecture"]))
            for s in sorted(rss.loc[rss["architecture"] == a, "step"].unique())]
    components = sorted(rss["component"].unique())
    fig = figure(width=max(6.0, 1.4 * len(bars)), height=4.5)
    ax = fig.subplots()
    bottom = np.zeros(len(bars))
    table = rss.set_index(["architecture", "step", "component"])["rss_mib"]
    for component in components:
        values = np.array([table.get((a, s, component), 0.0) for a, s in bars], dtype=float)
        ax.bar(range(len(bars)), values, bottom=bottom, label=component)
        bottom += values
    single_step = rss["step"].nunique() == 1
    ax.set_xticks(range(len(bars)), [a if single_step else f"{a} s{s}" for a, s in bars])
    ax.set_ylabel("RSS (MiB)")
    ax.set_title("Resident memory per component (median over the measured window and repeats)")
    ax.legend(fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return save(fig, path)


def _colors(windows: pd.DataFrame) -> dict[str, str]:
    return {a: f"C{i}" for i, a in enumerate(architecture_order(set(windows["architecture"])))}


def figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    return path
