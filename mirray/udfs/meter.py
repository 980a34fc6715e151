"""Downbeats and time signature from beat-level evidence: harmony changes and low-frequency onsets
favour the first beat of a bar."""

from __future__ import annotations

import numpy as np

from mirray.udfs.beat_refine import strength_at


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


def beat_evidence(beat_chroma: np.ndarray, low_onset_at_beats: np.ndarray, context_beats: int = 2) -> np.ndarray:
    """Per-beat downbeat evidence: z(harmonic change over ``context_beats``) + 0.5 z(bass onset).

    ``beat_chroma``: (12, n_beats), the chroma from each beat to the next, of the treble register
    (``chords.treble_chroma``: a walking or root-fifth bass changes pitch inside the bar; on the whole
    range it marked the half bar and swing's 3/4 as 4/4). One-beat context tells the
    bar length best (a change every 3 or every 4 beats stands out sharply); two-beat context finds the
    bar line best when parts arpeggiate or walk within the chord.
    """
    return _z(harmonic_novelty(beat_chroma, context_beats)) + 0.5 * _z(np.asarray(low_onset_at_beats, dtype=float))


def _phase_scores(evidence: np.ndarray, m: int) -> list[float]:
    """Mean evidence on every m-th beat (from each phase) minus the mean on the other beats."""
    out = []
    for phase in range(m):
        on = np.zeros(len(evidence), dtype=bool)
        on[phase::m] = True
        out.append(float(evidence[on].mean() - evidence[~on].mean()))
    return out


def subdivision(beat_times_sec: list[float], onset_env: np.ndarray, frame_rate_hz: float, ratio: float = 1.5) -> int:
    """3 when the beats divide into three (6/8, 12/8: onsets a third and two thirds into the beat, none
    halfway), else 2. Swing (2:1) has the last third but not the first, so it stays 2; so do sixteenths."""
    beats = np.asarray(beat_times_sec, dtype=float)
    if len(beats) < 8:
        return 2
    period = np.diff(beats)

    def strength(frac: float) -> float:
        return strength_at(onset_env, beats[:-1] + frac * period, frame_rate_hz)

    return 3 if min(strength(1 / 3), strength(2 / 3)) >= ratio * max(strength(0.5), 1e-9) else 2


def downbeats(beat_times_sec: list[float], evidence: np.ndarray, meters: tuple[int, ...] = (3, 4),
              phase_evidence: np.ndarray | None = None, beat_subdivision: int = 2) -> dict:
    """Choose beats per bar by how far the evidence on every m-th beat stands above the rest, then the
    phase the same way on ``phase_evidence`` (default: ``evidence``).

    Returns time_signature ("4/4", "3/4"; with ``beat_subdivision`` 3 the compound meters: 2 beats "6/8",
    3 "9/8", 4 "12/8"), beats_per_bar, downbeat_times_sec, and meter_confidence: the best meter's score
    lead over the best score of another meter (0 = undecided), in evidence units.
    """
    beats = np.asarray(beat_times_sec, dtype=float)
    if len(beats) < 2 * max(meters):
        return {"time_signature": None, "beats_per_bar": None, "downbeat_times_sec": [], "meter_confidence": None}
    best_by_meter = {m: max(_phase_scores(evidence, m)) for m in meters}
    m = max(best_by_meter, key=best_by_meter.get)
    other = max((v for mm, v in best_by_meter.items() if mm != m), default=0.0)  # one candidate: its own score
    phase = int(np.argmax(_phase_scores(evidence if phase_evidence is None else phase_evidence, m)))
    return {
        "time_signature": f"{3 * m}/8" if beat_subdivision == 3 else f"{m}/4",
        "beats_per_bar": m,
        "downbeat_times_sec": beats[phase::m].round(4).tolist(),
        "meter_confidence": max(0.0, best_by_meter[m] - other),
    }
