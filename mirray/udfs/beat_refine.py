"""Corrections to a tracked beat grid that the dynamic-programming tracker cannot make itself."""

from __future__ import annotations

import numpy as np


def off_beat_fix(beat_times_sec: np.ndarray, low_env: np.ndarray, frame_rate_hz: float, ratio: float = 1.5) -> np.ndarray:
    """Move the grid by a fraction of a beat when it sits on the off-beats.

    The broadband onset strength can lock onto off-beat hats and chord stabs (dance, ska); the low band
    (kick, bass) marks the beat itself. When the low-band onset strength at some shift of 0.2-0.8 beat
    (swung off-beats sit past the half) is ``ratio`` times that on the beats, the grid moves there.
    """
    if len(beat_times_sec) < 8:
        return beat_times_sec
    period = np.diff(beat_times_sec)

    def strength(times: np.ndarray) -> float:  # max over ±1 frame: a kick straddling two frames still counts
        f = np.round(times * frame_rate_hz).astype(int)
        return float(np.mean(np.max([low_env[np.clip(f + d, 0, len(low_env) - 1)] for d in (-1, 0, 1)], axis=0)))

    on = strength(beat_times_sec[:-1])
    shifts = np.linspace(0.2, 0.8, 13)
    off = [strength(beat_times_sec[:-1] + s * period) for s in shifts]
    best = int(np.argmax(off))
    if off[best] > ratio * max(on, 1e-9):
        moved = beat_times_sec[:-1] + shifts[best] * period
        return np.append(moved, moved[-1] + period[-1])
    return beat_times_sec


def onset_lag_sec(y: np.ndarray, sr_hz: int, beat_times_sec: np.ndarray, hop_length: int = 128, search_sec: float = 0.05) -> float:
    """Median offset from each beat to the strongest fine-resolution onset near it (seconds, negative = earlier).

    The tracker works on 23 ms frames of a 93 ms window, so its beats trail the attacks by a frame or
    so; a 6 ms onset envelope finds where the attacks really are. One shift for the whole grid: a
    per-beat snap would add jitter on beats without an attack.
    """
    import librosa

    if len(beat_times_sec) < 8:
        return 0.0
    env = librosa.onset.onset_strength(y=y, sr=sr_hz, hop_length=hop_length, n_fft=512)
    if not np.any(env > 0):
        return 0.0
    w = int(round(search_sec * sr_hz / hop_length))
    centres = np.round(beat_times_sec * sr_hz / hop_length).astype(int)
    offsets, strengths = [], []
    for c in centres:
        lo, hi = max(0, c - w), min(len(env), c + w + 1)
        if hi - lo < 2:
            continue
        k = int(np.argmax(env[lo:hi]))
        offsets.append((lo + k - c) * hop_length / sr_hz)
        strengths.append(env[lo + k])
    if not offsets:
        return 0.0
    strong = np.asarray(strengths) >= np.median(strengths)  # beats with a clear attack vote
    return float(np.median(np.asarray(offsets)[strong]))
