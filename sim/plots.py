"""Figures of simulation studies: latency against load (with 95% confidence intervals, and the
measured points when validating) and saturation rate against a what-if parameter."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLORS = {"monolith": "#1f77b4", "microservices": "#d62728"}
STYLES = ["-", "--", ":", "-."]


def latency_vs_load(summary: pd.DataFrame, operation: str, path: Path, *,
                    measured: pd.DataFrame | None = None, slo_ms: float | None = None,
                    title: str = "") -> Path:
    """p50 and p99 of `operation` per architecture (and per what-if value) against load."""
    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2, sharex=True)
    variants = [v for v in summary["variant"].unique()] if "variant" in summary else [""]
    for ax, quantile in zip(axes, ("p50", "p99"), strict=True):
        for (arch, variant), group in summary.groupby(["architecture", "variant"], sort=False):
            group = group.sort_values("level")
            style = STYLES[variants.index(variant) % len(STYLES)]
            label = arch + (f" ({variant})" if variant else "") + " simulated"
            ax.errorbar(group["level"], group[f"{operation}_{quantile}_ms"],
                        yerr=group[f"{operation}_{quantile}_ms_ci"].fillna(0), color=COLORS.get(arch),
                        linestyle=style, marker="o", markersize=3, capsize=2, label=label)
        if measured is not None and not measured.empty:
            for arch, group in measured.groupby("architecture", sort=False):
                ax.scatter(group["level"], group[f"measured_{quantile}_ms"], color=COLORS.get(arch),
                           marker="x", s=40, label=f"{arch} measured")
        if slo_ms is not None and quantile == "p99":
            ax.axhline(slo_ms, color="grey", linewidth=0.8, linestyle=":", label="SLO")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (req/s or users)")
        ax.set_ylabel(f"{operation} {quantile} (ms)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title or f"{operation}: latency against load (95% CI over replications)", fontsize=10)
    return _save(fig, path)


def saturation_vs_parameter(saturation: pd.DataFrame, parameter: str, path: Path) -> Path:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for arch, group in saturation.groupby("architecture", sort=False):
        group = group.dropna(subset=["value"]).sort_values("value")
        ax.plot(group["value"], group["rate"], marker="o", color=COLORS.get(arch), label=arch)
    ax.set_xlabel(parameter)
    ax.set_ylabel("saturation rate (req/s)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"saturation rate against {parameter}", fontsize=10)
    return _save(fig, path)


def metric_vs_parameter(summary: pd.DataFrame, metric: str, parameter: str, level: float,
                        path: Path) -> Path:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    at = summary[summary["level"] == level]
    for arch, group in at.groupby("architecture", sort=False):
        group = group.dropna(subset=["value"]).sort_values("value")
        ax.errorbar(group["value"], group[metric], yerr=group[f"{metric}_ci"].fillna(0), marker="o",
                    capsize=2, color=COLORS.get(arch), label=arch)
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"{metric} at {level:g}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    """No pyplot: the figure never touches the process's backend (a notebook keeps its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
