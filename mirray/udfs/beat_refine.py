"""Corrections to a tracked beat grid that the dynamic-programming tracker cannot make itself."""

from __future__ import annotations

import numpy as np


def refine_tempo_bpm(onset_env: np.ndarray, frame_rate_hz: float, tempo_bpm: float, multiples: tuple[int, ...] = (4, 2, 1)) -> float:
    """Sub-frame tempo from the onset envelope's autocorrelation.

    librosa's tempo estimate is one lag of a frame grid: at 170 BPM neighbouring lags are 4 % apart, and a
    beat tracker held to the wrong period drifts off the beat. The peak near k beats (k = 4, 2, 1; the
    longest clear one is the most precise), interpolated by a parabola, gives the period to a fraction of a frame.
    """
    import librosa

    lag0 = 60.0 * frame_rate_hz / tempo_bpm
    ac = librosa.autocorrelate(onset_env - onset_env.mean(), max_size=int(max(multiples) * lag0) + 4)
    for k in multiples:
        centre = int(round(k * lag0))
        lo, hi = max(1, centre - 2), min(len(ac) - 2, centre + 2)
        if hi <= lo:
            continue
        i = lo + int(np.argmax(ac[lo:hi + 1]))
        if not (ac[i] > 0 and ac[i] >= ac[i - 1] and ac[i] >= ac[i + 1]) or i in (lo, hi):
            continue  # no clear peak at this multiple
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        denom = a - 2 * b + c
        frac = 0.5 * (a - c) / denom if denom else 0.0
        return float(60.0 * frame_rate_hz * k / (i + frac))
    return float(tempo_bpm)


def periodic_tempo_bpm(onset_env: np.ndarray, frame_rate_hz: float, tempo_bpm: float, tolerance: float = 0.04,
                       min_share: float = 0.25, min_bpm: float = 30.0, max_bpm: float = 300.0) -> float:
    """``tempo_bpm`` if the onset envelope repeats at that period, else the period it does repeat at.

    librosa weighs its whole tempogram by a log-normal prior around 120 BPM; when the music's periodicities
    sit far from 120 (a slow chorale without drums: autocorrelation peaks at 89 and 172 BPM) the prior can
    win between them (123 BPM, a period nothing in the music has). Supported: an autocorrelation peak within
    ``tolerance`` (or 1.5 frames, coarser at fast tempi) whose prominence is at least ``min_share`` of the
    most prominent peak's. Otherwise the peak with the most prominence × that same prior is taken."""
    import librosa
    from scipy.signal import find_peaks

    ac = librosa.autocorrelate(onset_env - onset_env.mean(), max_size=int(60.0 * frame_rate_hz / min_bpm) + 2)
    if ac[0] <= 0:
        return float(tempo_bpm)
    peaks, props = find_peaks(ac / ac[0], prominence=0.0)
    tempi = 60.0 * frame_rate_hz / peaks  # find_peaks never returns lag 0
    keep = (tempi >= min_bpm) & (tempi <= max_bpm)
    peaks, tempi, prominence = peaks[keep], tempi[keep], props["prominences"][keep]
    if not len(peaks):
        return float(tempo_bpm)
    lag0 = 60.0 * frame_rate_hz / tempo_bpm
    near = np.abs(peaks - lag0) <= max(1.5, tolerance * lag0)
    if np.any(prominence[near] >= min_share * prominence.max()):
        return float(tempo_bpm)
    prior = np.exp(-0.5 * np.log2(tempi / 120.0) ** 2)
    return float(tempi[int(np.argmax(prominence * prior))])


def trim_silent_ends(beat_times_sec: np.ndarray, onset_env: np.ndarray, frame_rate_hz: float, min_ratio: float = 0.1) -> np.ndarray:
    """Drop leading and trailing beats with no onset activity around them (silence, a fading tail).

    Activity near a beat: the strongest onset within half a period of it. A beat whose activity is under
    ``min_ratio`` of the median beat's is silent; a quiet drum-less intro or outro still has its chord
    attacks and keeps its beats. Interior beats stay (a stop-time break is still in time).
    """
    if len(beat_times_sec) < 4:
        return beat_times_sec
    half = max(1, int(round(0.5 * np.median(np.diff(beat_times_sec)) * frame_rate_hz)))
    frames = np.round(beat_times_sec * frame_rate_hz).astype(int)
    activity = np.array([onset_env[max(0, f - half):f + half + 1].max(initial=0.0) for f in frames])
    alive = np.flatnonzero((activity >= min_ratio * np.median(activity)) & (activity > 0))
    if not len(alive):
        return beat_times_sec[:0]
    return beat_times_sec[alive[0]:alive[-1] + 1]


def peaks_at(env: np.ndarray, times_sec: np.ndarray, frame_rate_hz: float, radius: int = 1) -> np.ndarray:
    """Onset strength at each time, max over ±``radius`` frames (an attack straddling frames still counts)."""
    f = np.round(np.asarray(times_sec) * frame_rate_hz).astype(int)
    return np.max([env[np.clip(f + d, 0, len(env) - 1)] for d in range(-radius, radius + 1)], axis=0)


def strength_at(env: np.ndarray, times_sec: np.ndarray, frame_rate_hz: float) -> float:
    """Mean onset strength at the given times (max over ±1 frame)."""
    return float(np.mean(peaks_at(env, times_sec, frame_rate_hz)))


def off_beat_fix(beat_times_sec: np.ndarray, low_env: np.ndarray, frame_rate_hz: float, ratio: float = 1.5) -> np.ndarray:
    """Move the grid by a fraction of a beat when it sits on the off-beats.

    The broadband onset strength can lock onto off-beat hats and chord stabs (dance, ska); the low band
    (kick, bass) marks the beat itself. When the low-band onset strength at some shift of 0.2-0.8 beat
    (swung off-beats sit past the half) is ``ratio`` times that on the beats, the grid moves there.
    """
    if len(beat_times_sec) < 8:
        return beat_times_sec
    period = np.diff(beat_times_sec)

    def strength(times: np.ndarray) -> float:
        return strength_at(low_env, times, frame_rate_hz)

    on = strength(beat_times_sec[:-1])
    shifts = np.linspace(0.2, 0.8, 13)
    off = [strength(beat_times_sec[:-1] + s * period) for s in shifts]
    best = int(np.argmax(off))
    if off[best] > ratio * max(on, 1e-9):
        moved = beat_times_sec[:-1] + shifts[best] * period
        return np.append(moved, moved[-1] + period[-1])
    return beat_times_sec


def phase_profile(env: np.ndarray, beat_times_sec: np.ndarray, frame_rate_hz: float, bins: int = 40) -> np.ndarray:
    """Mean onset strength at ``bins`` equal steps of each beat span (phase 0 = the beat), scaled to max 1:
    where, inside the beat, the attacks fall. Linear interpolation between frames; each span is stretched to
    one beat, so tempo drift does not blur it."""
    if len(beat_times_sec) < 2:
        return np.zeros(bins)
    a, b = np.asarray(beat_times_sec[:-1]), np.asarray(beat_times_sec[1:])
    frames = (a[:, None] + (b - a)[:, None] * np.arange(bins)[None, :] / bins) * frame_rate_hz
    prof = np.interp(frames.ravel(), np.arange(len(env)), env).reshape(frames.shape).mean(axis=0)
    return prof / prof.max() if prof.max() > 0 else prof


def off_beat_peak(profile: np.ndarray, lo: float = 0.25, hi: float = 0.8) -> tuple[int, float, float]:
    """(bin of the beat's own peak, distance in beats from it to the strongest peak between ``lo`` and ``hi``
    of a beat after it, that peak's height relative to the beat's). The beat's peak is searched within
    ±0.15 beat (the grid's attacks and the envelope's maximum can be a frame apart); both peak positions
    are refined by a parabola through their neighbours."""
    bins = len(profile)
    near = np.r_[np.arange(0, int(0.15 * bins) + 1), np.arange(bins - int(0.15 * bins), bins)]
    p0 = int(near[np.argmax(profile[near])])
    window = (p0 + np.arange(int(np.ceil(lo * bins)), int(hi * bins) + 1)) % bins
    p1 = int(window[np.argmax(profile[window])])

    def vertex(i: int) -> float:
        a, b, c = profile[(i - 1) % bins], profile[i], profile[(i + 1) % bins]
        denom = a - 2 * b + c
        return i + (0.5 * (a - c) / denom if denom < 0 else 0.0)

    return p0, ((vertex(p1) - vertex(p0)) % bins) / bins, float(profile[p1] / max(profile[p0], 1e-9))


def swung_off_beat_fix(beat_times_sec: np.ndarray, onset_env: np.ndarray, frame_rate_hz: float, min_height: float = 0.5,
                       max_mirror: float = 0.5) -> np.ndarray:
    """Move a grid that sits on swung off-beats back onto the beat.

    Swung eighths fall late in the beat (long-short: a 2:1 swing puts the off-beat at 2/3). A grid locked to
    the swung off-beats sees the reverse, a strong attack early in each of its beats (at 1/3-0.44) and
    nothing at the mirror position: short-long everywhere, which songs hardly do. Then the beat is that
    early attack. Needs a strong early peak (``min_height`` of the grid's own) and a weak mirror
    (under ``max_mirror`` of the early peak), so straight and triplet grids are left alone."""
    if len(beat_times_sec) < 8:
        return beat_times_sec
    prof = phase_profile(onset_env, beat_times_sec, frame_rate_hz)
    p0, d, height = off_beat_peak(prof)
    bins = len(prof)
    mirror = prof[(p0 + np.arange(int((1 - d - 0.05) * bins), int((1 - d + 0.05) * bins) + 1)) % bins].max()
    if not (0.28 <= d <= 0.44 and height >= min_height and mirror <= max_mirror * height * prof[p0]):
        return beat_times_sec
    period = np.diff(beat_times_sec)
    moved = beat_times_sec[:-1] + d * period
    return np.append(moved, moved[-1] + period[-1])


def grid_repair(beat_times_sec: np.ndarray, period_sec: float | None = None, tolerance: float = 0.2, min_in_phase: float = 0.6,
                max_spread: float = 0.04) -> np.ndarray:
    """Put beats that slipped off the song's grid back on it, for songs played to a steady tempo.

    The tracker can follow off-beat stabs through a drum-less intro or bridge and then rejoin the beat.
    When most beats (``min_in_phase``) lie on one strict grid (spread under ``max_spread`` of a period:
    a click track, a sequencer; ``period_sec``: the refined tempo's period, if known), the beats further
    than ``tolerance`` of a period from it are replaced by grid points over the same stretch. Songs that breathe (rubato, live drift) fail the spread test
    and are left alone.
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
    slips where kick and bass are missing (GM: moved runs 0.1–0.7, one 1.6); on real recordings runs as
    loud down there (0.9–1.2) had Essentia's beats on them too. Moved runs keep the tracker's timing (it follows the drift) moved by the measured jump;
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


def onset_lag_sec(y: np.ndarray, sr_hz: int, beat_times_sec: np.ndarray, hop_length: int = 128, search_sec: float = 0.05,
                  max_beats: int = 64) -> float:
    """Median offset from each beat to the strongest fine-resolution onset near it (seconds, negative = earlier).

    The tracker works on 23 ms frames of a 93 ms window, so its beats trail the attacks by a frame or
    so; a 6 ms onset envelope finds where the attacks really are. One shift for the whole grid: a
    per-beat snap would add jitter on beats without an attack. Only ``max_beats`` beats, spread over
    the song, are looked at: 0.2 s around each, not the whole song.
    """
    import librosa

    if len(beat_times_sec) < 8:
        return 0.0
    half = int(2 * search_sec * sr_hz)  # snippet: ±2 search windows, so the joins stay outside the search
    picks = beat_times_sec[np.linspace(0, len(beat_times_sec) - 1, min(max_beats, len(beat_times_sec))).astype(int)]
    centres = [int(round(t * sr_hz)) for t in picks if half <= t * sr_hz < len(y) - half]
    if not centres:
        return 0.0
    env = librosa.onset.onset_strength(y=np.concatenate([y[c - half:c + half] for c in centres]), sr=sr_hz,
                                       hop_length=hop_length, n_fft=512)
    per = 2 * half / hop_length  # envelope frames per snippet
    w = int(round(search_sec * sr_hz / hop_length))
    offsets, strengths = [], []
    for i in range(len(centres)):
        c = int(round(i * per + half / hop_length))
        window = env[max(0, c - w):c + w + 1]
        if len(window) < 2:
            continue
        k = int(np.argmax(window))
        offsets.append((max(0, c - w) + k - c) * hop_length / sr_hz)
        strengths.append(window[k])
    if not offsets or not np.any(np.asarray(strengths) > 0):
        return 0.0
    strong = np.asarray(strengths) >= np.median(strengths)  # beats with a clear attack vote
    return float(np.median(np.asarray(offsets)[strong]))


def metric_level(beat_times_sec: np.ndarray, onset_env: np.ndarray, high_env: np.ndarray, frame_rate_hz: float,
                 min_bpm: float, max_bpm: float, low_env: np.ndarray | None = None, double_min_ratio: float = 0.8,
                 drums_min_share: float = 1.0, half_max_alternation: float = 0.6, steady_low_alternation: float = 0.8,
                 high_mid_min_ratio: float = 1.0, high_mid_full_min_ratio: float = 0.7, backbeat_max_alternation: float = 0.7,
                 any_mid_min_ratio: float = 1.0) -> np.ndarray:
    """The beats at the metric level a listener would tap: doubled, halved or as they are.

    The tracker's tempo prior (log-normal around 120 BPM) reads 170 BPM drum patterns at 85 and 60 BPM
    grooves with sixteenth hats at 120. Checks on the tracked grid:
    - doubled when onsets halfway between beats are as strong as on them (``double_min_ratio``; a backbeat
      snare between the beats) and the high band is percussive (its onset strength at least
      ``drums_min_share`` of the full band's: drums; a chorale's even eighth notes are not) and the doubled
      tempo stays within ``max_bpm``; or when the high band alone is stronger halfway between the beats
      than on them (``high_mid_min_ratio``: a swing hi-hat or backbeat on 2 and 4 of a fast song read at
      half tempo, with the ride or kick on 1 and 3) and the full band's mid-points are at least
      ``high_mid_full_min_ratio`` of its beats;
      or when the full band alone is as strong halfway as on the beats (``any_mid_min_ratio``; a chorale's
      eighth notes stay under it);
    - halved (keeping the stronger beats) when every other beat is much weaker than its neighbours, in the
      full band and in the high band (``half_max_alternation``: weaker/stronger mean strength; the weak
      ones are off-beats), unless the low band (``low_env``: kick, bass) hits every beat evenly (alternation
      above ``steady_low_alternation``: a four-on-the-floor kick marks them all as beats), and the halved
      tempo stays at or above ``min_bpm``; also halved when the high band (snare) and the low band (kick)
      are both stronger on the same every-other beat (``backbeat_max_alternation`` in the high band): a
      backbeat falls between kicks, so a snare that lands with the kick's strong beats is a half-time
      reading of a slow groove (kick on 1, snare on 3 of a bar at twice the tempo).
    Measured on the GM, held-out GM and chorale corpora (BENCHMARKS.md)."""
    if len(beat_times_sec) < 8:
        return beat_times_sec
    beats = np.asarray(beat_times_sec, dtype=np.float64)
    period_sec = float(np.median(np.diff(beats)))
    if period_sec <= 0:
        return beat_times_sec
    tempo_bpm = 60.0 / period_sec
    on = peaks_at(onset_env, beats[:-1], frame_rate_hz, radius=2)
    mids = (beats[:-1] + beats[1:]) / 2

    def mid_over_beats(env: np.ndarray) -> float:  # mean strength halfway between beats / on them
        return float(peaks_at(env, mids, frame_rate_hz, radius=2).mean() / max(peaks_at(env, beats[:-1], frame_rate_hz, radius=2).mean(), 1e-9))

    full_mid, high_mid = mid_over_beats(onset_env), mid_over_beats(high_env)
    drums = float(high_env.mean()) >= drums_min_share * float(onset_env.mean())
    double = ((drums and full_mid >= double_min_ratio) or (high_mid >= high_mid_min_ratio and full_mid >= high_mid_full_min_ratio)
              or full_mid >= any_mid_min_ratio)
    if 2 * tempo_bpm <= max_bpm and double:
        doubled = np.empty(2 * len(beats) - 1)
        doubled[0::2], doubled[1::2] = beats, mids
        return doubled
    if tempo_bpm / 2 >= min_bpm:
        def alternation(env: np.ndarray) -> tuple[float, int]:  # weaker / stronger mean strength of odd vs even beats; the stronger
            e = peaks_at(env, beats[:-1], frame_rate_hz, radius=2)
            even, odd = e[0::2].mean(), e[1::2].mean()
            return float(min(even, odd) / max(even, odd, 1e-9)), int(odd > even)

        high_alt, high_strong = alternation(high_env)
        low_alt, low_strong = alternation(low_env) if low_env is not None else (0.0, -1)
        steady_low = low_alt > steady_low_alternation
        half_time = high_alt < backbeat_max_alternation and high_strong == low_strong
        if (max(alternation(onset_env)[0], high_alt) < half_max_alternation or half_time) and not steady_low:
            return beats[int(on[1::2].mean() > on[0::2].mean())::2]
    return beat_times_sec
