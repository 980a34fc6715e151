"""Downbeats and time signature from beat-level evidence: harmony changes and low-frequency onsets
favour the first beat of a bar."""

from __future__ import annotations

import numpy as np


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def beat_evidence(beat_chroma: np.ndarray, low_onset_at_beats: np.ndarray) -> np.ndarray:
    """Per-beat downbeat evidence: z(chord-change novelty) + 0.5 z(bass onset).

    ``beat_chroma``: (12, n_beats), the chroma from each beat to the next; novelty of beat i is the
    cosine distance to the span before it.
    """
    unit = beat_chroma / np.maximum(np.linalg.norm(beat_chroma, axis=0), 1e-9)
    novelty = np.zeros(unit.shape[1])
    novelty[1:] = 1.0 - np.sum(unit[:, 1:] * unit[:, :-1], axis=0)
    novelty[0] = novelty[1:].mean() if len(novelty) > 1 else 0.0  # no span before the first beat: neutral
    return _z(novelty) + 0.5 * _z(np.asarray(low_onset_at_beats, dtype=float))


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
