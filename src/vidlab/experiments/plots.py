"""Plots of the experiments' results for notebooks 04 and 05: estimates with their intervals, and seeds.

Each function draws on a matplotlib ``ax`` and returns it, so a notebook cell composes them.
"""

from __future__ import annotations

import numpy as np


def _value(entry: dict) -> float:
    """The estimate of an interval entry: a rate (``stats.rate``) or a median (``stats.median_ci``)."""
    return entry["rate"] if "rate" in entry else entry["median"]


def intervals(ax, labels, entries, ylabel: str = "", title: str = "", color=None, offset: float = 0.0, label=None):
    """One point per entry (``stats.rate`` or ``stats.median_ci`` dicts) with its interval as an error bar.

    Infinite or missing estimates (a ball never found) are left out, not drawn at the axis' edge.
    """
    x = np.arange(len(labels)) + offset
    values = np.array([_value(e) for e in entries], dtype=float)
    low = np.array([e["low"] for e in entries], dtype=float)
    high = np.array([e["high"] for e in entries], dtype=float)
    shown = np.isfinite(values) & np.isfinite(low) & np.isfinite(high)
    ax.errorbar(x[shown], values[shown], yerr=[values[shown] - low[shown], high[shown] - values[shown]], fmt="o",
                capsize=4, color=color, label=label)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=20, ha="right")
    ax.set(ylabel=ylabel, title=title)
    return ax


def seeds(ax, labels, per_label: list, ylabel: str = "", title: str = ""):
    """Each training seed's figure as a dot, and their mean as a bar, for each label (``per_label[i]``: a list)."""
    for i, values in enumerate(per_label):
        values = np.asarray(values, dtype=float)
        finite = values[np.isfinite(values)]
        if len(finite):
            ax.bar(i, finite.mean(), color="0.85", width=0.6)
        ax.plot(np.full(len(finite), i), finite, "o", color="C0")
    ax.set_xticks(np.arange(len(labels)), labels, rotation=20, ha="right")
    ax.set(ylabel=ylabel, title=title)
    return ax


def speeds(ax, per_clip: list, trained: dict, title: str = ""):
    """Generated against true speed, one dot per clip, coloured by its class (``per_clip``: the rows of
    :func:`vidlab.experiments.attributes.judge`); ``trained``: class -> its speed ranges in training, shaded.
    A model that reads velocity puts its dots on the diagonal; one that reads the class, inside its band."""
    from matplotlib.colors import is_color_like

    colours = {}
    for cls, ranges in trained.items():
        colours[cls] = cls if is_color_like(cls) else f"C{len(colours)}"  # a red ball's dots in red
        for low, high in ranges:
            ax.axhspan(low, high, color=colours[cls], alpha=0.12)
    for cls, colour in colours.items():
        mine = [c for c in per_clip if c["class"] == cls and np.isfinite(c["generated_speed"])]
        ax.plot([c["true_speed"] for c in mine], [c["generated_speed"] for c in mine], ".", color=colour,
                alpha=0.5, label=f"{cls} (shaded: its training speeds)")
    ax.plot([0, 5], [0, 5], "k:", lw=1)
    ax.set(xlabel="true speed in the clip (units/s)", ylabel="generated speed (units/s)", title=title)
    ax.legend(fontsize=8)
    return ax
