"""Downbeats and time signature from beat-level evidence: harmony changes and low-frequency onsets
favour the first beat of a bar."""

from __future__ import annotations

import numpy as np


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def harmonic_novelty(beat_chroma: np.ndarray, context_beats: int = 2) -> np.ndarray:
    """Per-beat harmonic change: cosine distance between the mean chroma of the ``context_beats`` beats
    before beat i and of those from beat i on. Two-beat context: arpeggiated or walking parts change
    pitch classes every beat while the chord holds for the bar."""
    unit = beat_chroma / np.maximum(np.linalg.norm(beat_chroma, axis=0), 1e-9)
    n = unit.shape[1]
    csum = np.concatenate([np.zeros((12, 1)), np.cumsum(unit, axis=1)], axis=1)
    novelty = np.zeros(n)
    for i in range(1, n):
        before = csum[:, i] - csum[:, max(0, i - context_beats)]
        after = csum[:, min(n, i + context_beats)] - csum[:, i]
        denom = np.linalg.norm(before) * np.linalg.norm(after)
        novelty[i] = 1.0 - before @ after / denom if denom > 0 else 0.0
    novelty[0] = novelty[1:].mean() if n > 1 else 0.0  # no span before the first beat: neutral
    return novelty


def beat_evidence(beat_chroma: np.ndarray, low_onset_at_beats: np.ndarray) -> np.ndarray:
    """Per-beat downbeat evidence: z(harmonic change) + 0.5 z(bass onset).

    ``beat_chroma``: (12, n_beats), the chroma from each beat to the next.
    """
    return _z(harmonic_novelty(beat_chroma)) + 0.5 * _z(np.asarray(low_onset_at_beats, dtype=float))


def downbeats(beat_times_sec: list[float], evidence: np.ndarray, meters: tuple[int, ...] = (3, 4)) -> dict:
    """Choose beats per bar and phase by how far the evidence on every m-th beat stands above the rest.

    Returns time_signature ("4/4", "3/4"), beats_per_bar, downbeat_times_sec, and meter_confidence: the
    best score's lead over the best score of another meter (0 = undecided), in evidence units.
    """
    beats = np.asarray(beat_times_sec, dtype=float)
    if len(beats) < 2 * max(meters):
        return {"time_signature": None, "beats_per_bar": None, "downbeat_times_sec": [], "meter_confidence": None}
    scores = {}
    for m in meters:
        for phase in range(m):
            on = np.zeros(len(beats), dtype=bool)
            on[phase::m] = True
            scores[(m, phase)] = float(evidence[on].mean() - evidence[~on].mean())
    (m, phase), best = max(scores.items(), key=lambda kv: kv[1])
    other = max(v for (mm, _), v in scores.items() if mm != m)
    return {
        "time_signature": f"{m}/4",
        "beats_per_bar": m,
        "downbeat_times_sec": beats[phase::m].round(4).tolist(),
        "meter_confidence": max(0.0, best - other),
    }
