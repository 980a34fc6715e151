"""Rhythmic analysis on onsets against the metric grid from beats and downbeats."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from mirray.udfs.beat_refine import off_beat_peak


def lhl_weights(beats_per_bar: int, subdivisions: int = 4) -> np.ndarray:
    """Longuet-Higgins & Lee metric weights for one bar on a grid of ``subdivisions`` per beat:
    0 on the downbeat, then -1 per level down (half bar in 4/4, beat, eighth, sixteenth)."""
    n = beats_per_bar * subdivisions
    levels = []
    for pos in range(n):
        if pos == 0:
            levels.append(0)
            continue
        level = 1 if beats_per_bar == 4 and pos == n // 2 else None
        if level is None:
            base = 2 if beats_per_bar == 4 else 1  # beat level
            if pos % subdivisions == 0:
                level = base
            elif pos % (subdivisions // 2) == 0:
                level = base + 1
            else:
                level = base + 2
        levels.append(level)
    return -np.array(levels, dtype=float)


def onset_grid(onset_times_sec: list[float], downbeats_sec: list[float], beats_per_bar: int, subdivisions: int = 4) -> list[np.ndarray]:
    """Per bar, a boolean grid (beats_per_bar × subdivisions) of which positions hold an onset."""
    bars = []
    onsets = np.asarray(onset_times_sec, dtype=float)
    for a, b in zip(downbeats_sec[:-1], downbeats_sec[1:]):
        n = beats_per_bar * subdivisions
        step = (b - a) / n
        grid = np.zeros(n, dtype=bool)
        inside = onsets[(onsets >= a - step / 2) & (onsets < b - step / 2)]
        for t in inside:
            grid[int(round((t - a) / step)) % n] = True
        bars.append(grid)
    return bars


def syncopation_index(bars: list[np.ndarray], beats_per_bar: int, subdivisions: int = 4) -> float | None:
    """Longuet-Higgins & Lee syncopation, averaged per onset and scaled to 0..1.

    An onset at weight w followed (before the next onset) by a silent position of higher weight W
    scores W - w. The per-onset mean is divided by the largest possible score (downbeat vs. the
    lowest level).
    """
    if not bars:
        return None
    w = lhl_weights(beats_per_bar, subdivisions)
    seq = np.concatenate(bars)
    weights = np.tile(w, len(bars))
    on = np.nonzero(seq)[0]
    if len(on) == 0:
        return None
    total = 0.0
    for i, pos in enumerate(on):
        nxt = on[i + 1] if i + 1 < len(on) else len(seq)
        if nxt > pos + 1:
            rest_max = weights[pos + 1:nxt].max()
            if rest_max > weights[pos]:
                total += rest_max - weights[pos]
    return float(min(1.0, total / len(on) / -w.min()))


def swing_ratio(phase_profile: np.ndarray | None, min_height: float = 0.15) -> float | None:
    """Long:short ratio of the beat's halves (1.0 straight, 2.0 triplet swing), from where the strongest
    attack between 40 % and 80 % of the beat falls on average (``beat_refine.phase_profile``). Averaging the
    onset strength over every beat finds a soft ride or hat that discrete onset picking misses. None when
    that attack is under ``min_height`` of the beat's own (nothing between the beats)."""
    if phase_profile is None or not np.any(phase_profile > 0):
        return None
    _, d, height = off_beat_peak(phase_profile, 0.4, 0.8)
    return round(d / (1 - d), 3) if height >= min_height else None


def by_position(values: np.ndarray, beat_times_sec: list[float], downbeats_sec: list[float], beats_per_bar: int) -> list[float]:
    """Mean of a per-beat value at each position in the bar (position 1 = the downbeat), scaled to max 1."""
    first = int(np.argmin(np.abs(np.asarray(beat_times_sec) - downbeats_sec[0])))
    v = np.asarray(values, dtype=float)
    pos = [float(v[(np.arange(len(v)) - first) % beats_per_bar == p].mean()) for p in range(beats_per_bar)]
    return [round(a / max(pos), 3) if max(pos) > 0 else 0.0 for a in pos]


def metric_hierarchy(accent_at_beats: np.ndarray, beat_times_sec: list[float], downbeats_sec: list[float], beats_per_bar: int,
                     low_at_beats: np.ndarray | None = None, high_at_beats: np.ndarray | None = None) -> dict:
    """Strong and weak beat positions (1-based) from the mean measured accent at each position in the bar;
    with band-limited onset strengths, the same per position for the low band (kick, bass) and the high
    band (snare, hats, cymbals): a four-on-the-floor kick and a backbeat snare show there."""
    empty = {"strong_beats": [], "weak_beats": [], "accent_by_position": [], "low_accent_by_position": [], "high_accent_by_position": []}
    if not downbeats_sec or beats_per_bar is None or len(beat_times_sec) < beats_per_bar:
        return empty
    acc = by_position(accent_at_beats, beat_times_sec, downbeats_sec, beats_per_bar)
    cut = float(np.mean(acc))
    strong = [p + 1 for p, a in enumerate(acc) if a > cut]
    band = lambda x: by_position(x, beat_times_sec, downbeats_sec, beats_per_bar) if x is not None and len(x) else []  # noqa: E731
    return {"strong_beats": strong, "weak_beats": [p + 1 for p in range(beats_per_bar) if p + 1 not in strong],
            "accent_by_position": acc, "low_accent_by_position": band(low_at_beats), "high_accent_by_position": band(high_at_beats)}


def complexity_score(bars: list[np.ndarray], syncopation: float | None) -> float | None:
    """0..1: mean of syncopation, normalised entropy of the bar patterns, and onset density on the grid."""
    if not bars:
        return None
    patterns = Counter(g.tobytes() for g in bars)
    n = len(bars)
    entropy = -sum(c / n * math.log2(c / n) for c in patterns.values())
    norm_entropy = entropy / math.log2(n) if n > 1 else 0.0
    density = float(np.mean([g.mean() for g in bars]))
    return round(float(np.mean([syncopation or 0.0, norm_entropy, density])), 4)


def rhythmic_analysis(onset_times_sec: list[float], beat_times_sec: list[float], downbeats_sec: list[float],
                      beats_per_bar: int | None, time_signature: str | None, accent_at_beats: np.ndarray,
                      low_at_beats: np.ndarray | None = None, high_at_beats: np.ndarray | None = None,
                      high_band_onset_ratio: float | None = None, phase_profile: np.ndarray | None = None) -> dict:
    """The seed's rhythmic_analysis block (plus swing_ratio, read from ``phase_profile``: onset strength by
    place in the beat)."""
    bpb = beats_per_bar or 4
    bars = onset_grid(onset_times_sec, list(downbeats_sec), bpb) if len(downbeats_sec) >= 2 else []
    sync = syncopation_index(bars, bpb)
    return {
        "syncopation_index": sync,
        "time_signature": time_signature,
        "complexity_score": complexity_score(bars, sync),
        "metric_hierarchy": metric_hierarchy(accent_at_beats, beat_times_sec, list(downbeats_sec), beats_per_bar, low_at_beats, high_at_beats),
        "high_band_onset_ratio": high_band_onset_ratio,
        "swing_ratio": swing_ratio(phase_profile),
    }
