"""Repairs of the tracked beat grid's phase: runs of beats that slipped onto the off-beats go back on the beat.

``grid_repair`` for songs on a click (one strict grid), ``drift_repair`` for songs whose tempo wanders."""

from __future__ import annotations

import numpy as np

from mirray.udfs.beat_refine import strength_at


def grid_repair(beat_times_sec: np.ndarray, period_sec: float | None = None, tolerance: float = 0.2, min_in_phase: float = 0.6,
                max_spread: float = 0.04) -> np.ndarray:
    """Put beats that slipped off the song's grid back on it, for songs played to a steady tempo.

    The tracker can follow off-beat stabs through a drum-less intro or bridge and then rejoin the beat.
    When most beats (``min_in_phase``) lie on one strict grid (spread under ``max_spread`` of a period:
    a click track, a sequencer; ``period_sec``: the refined tempo's period, if known), the beats further
    than ``tolerance`` of a period from it are replaced by grid points over the same stretch. Songs that
    breathe (rubato, live drift) fail the spread test and are left alone.
    """
    if len(beat_times_sec) < 16:
        return beat_times_sec
    p0 = period_sec or float(np.median(np.diff(beat_times_sec)))
    periods = p0 * np.linspace(0.998, 1.002, 41) if period_sec else p0 * np.linspace(0.99, 1.01, 201)
    vectors = np.exp(2j * np.pi * beat_times_sec[None, :] / periods[:, None])
    best = int(np.argmax(np.abs(vectors.mean(axis=1))))
    period, phase = periods[best], np.angle(vectors[best].mean())
    dev = np.angle(vectors[best] * np.exp(-1j * phase)) / (2 * np.pi)  # in periods, -0.5..0.5
    on = np.abs(dev) <= tolerance
    offset = phase / (2 * np.pi) * period
    for _ in range(2):  # the off-grid beats bias the resultant's period: refit on the beats on the grid
        if on.sum() < 8:
            return beat_times_sec
        period, offset = np.polyfit(np.round((beat_times_sec[on] - offset) / period), beat_times_sec[on], 1)
        dev = (beat_times_sec - offset) / period
        dev = dev - np.round(dev)
        on = np.abs(dev) <= tolerance
    if on.mean() < min_in_phase or on.all() or np.std(dev[on]) > max_spread:
        return beat_times_sec
    grid = lambda a, b: offset + period * np.arange(np.ceil((a - offset) / period - 1e-9), np.floor((b - offset) / period + 1e-9) + 1)  # noqa: E731
    out, i, n = [], 0, len(beat_times_sec)
    while i < n:
        if on[i]:
            out.append(beat_times_sec[i])
            i += 1
            continue
        j = i
        while j < n and not on[j]:
            j += 1
        lo = beat_times_sec[i - 1] + period / 2 if i > 0 else beat_times_sec[i] - period / 2
        hi = beat_times_sec[j] - period / 2 if j < n else beat_times_sec[j - 1] + period / 2
        out.extend(t for t in grid(lo, hi) if t >= 0)
        i = j
    return np.asarray(out)


def _phase_jumps(t: np.ndarray, local_period: np.ndarray, side: int, zone: int, min_jump: float,
                 max_scatter: float = 0.05) -> list[tuple[int, int, float]]:
    """(first beat of a zone, first beat after it, phase change in periods) where the beat sequence jumps by
    about half a beat: the grids through the ``side`` beats before and after a ``zone`` of beats, each at its
    own tempo, meet in the zone more than ``min_jump`` of a period apart (beats scattering more than
    ``max_scatter`` of a period about either line: that side straddles the slip). Each jump is taken where
    it is largest (a tracker slides over a few beats), jumps at least a zone plus a side apart."""
    jump = np.zeros(len(t))
    for k in range(side, len(t) - zone - side + 1):
        # beat indices from the local period: a slip keeps the count, a half-beat shift rounds either way
        idx = np.concatenate([[0.0], np.cumsum(np.round(np.diff(t[k - side:k + zone + side]) / local_period[k - side:k + zone + side - 1]))])
        left, right = slice(0, side), slice(side + zone, 2 * side + zone)
        mid = (idx[side - 1] + idx[side + zone]) / 2  # each side's own grid (its own tempo) where they meet
        fit_left, fit_right = np.polyfit(idx[left], t[k - side:k], 1), np.polyfit(idx[right], t[k + zone:k + zone + side], 1)
        scatter = max(np.std(t[k - side:k] - np.polyval(fit_left, idx[left])),
                      np.std(t[k + zone:k + zone + side] - np.polyval(fit_right, idx[right])))
        if scatter > max_scatter * local_period[k]:  # a side that straddles the slip itself measures nothing
            continue
        gap = (np.polyval(fit_right, mid) - np.polyval(fit_left, mid)) / local_period[k]
        jump[k] = gap - np.round(gap)
    out: list[tuple[int, int, float]] = []
    for k in np.argsort(-np.abs(jump)):
        if abs(jump[k]) <= min_jump:
            break
        if all(abs(k - a) >= zone + side for a, _, _ in out):
            out.append((int(k), int(k) + zone, float(jump[k])))
    return sorted(out)


def drift_repair(beat_times_sec: np.ndarray, low_env: np.ndarray | None = None, frame_rate_hz: float | None = None,
                 side: int = 6, zone: int = 4, min_jump: float = 0.3, max_wander: float = 0.04, min_ratio: float = 1.2,
                 max_support: float = 0.8) -> np.ndarray:
    """Put runs of beats that slipped onto the off-beats back on the beat, in songs whose tempo drifts.

    ``grid_repair`` needs one strict grid; a band without a click wanders a few per cent and fails its
    spread test, so a drum-less intro or bridge of off-beat stabs stayed half a beat off (GM songs with
    3 % tempo drift, BENCHMARKS.md). A slip shows as a jump of about half a period between the grids of
    the beats either side (``_phase_jumps``). Jumps split the song into runs that alternate between two
    phases. The beat is the phase whose beats carry more of the low band (``low_env``, kick and bass:
    ``min_ratio`` × the other's, else nothing moves) — not the phase most beats share: in electronic music
    the tracker can sit on the off-beat hats for most of a song. Without ``low_env``, the majority's.
    Only runs whose beats carry at most ``max_support`` of the beat phase's low band move: a tracker
    slips where kick and bass are missing (GM: moved runs 0.1–0.7 of it, one 1.6); the real recordings'
    runs with as much down there (0.9–1.2) keep their phase. Moved runs keep the tracker's timing (it
    follows the drift), shifted by the jumps measured at their edges;
    beats inside a jump's zone are spaced evenly between the runs either side. Songs whose beat period
    wanders more than ``max_wander`` (std of its log, over 9-beat medians) are left alone: there each
    side's grid, carried into the zone, misses by a third of a beat (GM songs with 6 % drift: false
    slips, beat F 0.962 → 0.934 without this test)."""
    t = np.asarray(beat_times_sec, dtype=np.float64)
    if len(t) < 4 * side:
        return t
    from scipy.ndimage import median_filter

    if np.std(np.log(median_filter(np.diff(t), size=9, mode="nearest"))) > max_wander:
        return t  # each side's grid, carried five beats, would miss by a third of a beat: slips cannot be told apart
    local_period = median_filter(np.diff(t), size=33, mode="nearest")
    jumps = _phase_jumps(t, local_period, side, zone, min_jump)
    if not jumps:
        return t
    bounds = [0] + [b for a, b, _ in jumps]  # run r: beats bounds[r] .. (next zone start)
    ends = [a for a, _, _ in jumps] + [len(t)]
    phase = np.concatenate([[0.0], np.cumsum([j for _, _, j in jumps])])
    state = np.round(2 * phase).astype(int) % 2  # 0 or 1: which of the two phases each run is on
    runs = list(zip(bounds, ends))
    if low_env is None or frame_rate_hz is None:  # the majority's phase is the beat
        counts = [sum(e - b for (b, e), s in zip(runs, state) if s == on) for on in (0, 1)]
        return _realign(t, local_period, jumps, bounds, ends, state != int(np.argmax(counts)))
    whole = [_realign(t, local_period, jumps, bounds, ends, state != on) for on in (0, 1)]  # either phase as the beat
    low = [strength_at(low_env, a, frame_rate_hz) for a in whole]
    on = int(np.argmax(low))
    if low[on] < min_ratio * low[1 - on]:
        return t
    # a run whose beats carry the kick and bass like the beat's runs was tracked on its own evidence, not slipped
    ref = strength_at(low_env, np.concatenate([t[b:e] for (b, e), s in zip(runs, state) if s == on]), frame_rate_hz)
    move = np.array([s != on and strength_at(low_env, t[b:e], frame_rate_hz) <= max_support * ref for (b, e), s in zip(runs, state)])
    return _realign(t, local_period, jumps, bounds, ends, move) if move.any() else t


def _realign(t: np.ndarray, local_period: np.ndarray, jumps: list, bounds: list, ends: list, move: np.ndarray) -> np.ndarray:
    """``drift_repair``'s beats with the runs flagged in ``move`` shifted by the jumps at their edges."""
    fixed = t.copy()
    for r, (b, e) in enumerate(zip(bounds, ends)):
        if move[r]:
            shifts = ([-jumps[r - 1][2]] if r > 0 else []) + ([jumps[r][2]] if r < len(jumps) else [])
            shift = np.angle(np.exp(2j * np.pi * np.array(shifts)).mean()) / (2 * np.pi)  # ±0.5 are one shift
            fixed[b:e] = t[b:e] + shift * local_period[min(b, len(local_period) - 1)]
    out = []
    for r, (b, e) in enumerate(zip(bounds, ends)):
        out.extend(fixed[b:e])
        if r < len(jumps) and not (move[r] or move[r + 1]):
            out.extend(t[e:jumps[r][1]])
        elif r < len(jumps):  # the zone: evenly spaced between this run's last beat and the next run's first
            a0, a1 = fixed[e - 1], fixed[jumps[r][1]]
            steps = max(1, int(round((a1 - a0) / local_period[e - 1])))
            out.extend(a0 + (a1 - a0) * np.arange(1, steps) / steps)
    return np.asarray([x for x in out if x >= 0])
