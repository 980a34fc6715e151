"""Corrections to a tracked beat grid that the dynamic-programming tracker cannot make itself."""

from __future__ import annotations

import numpy as np

from mirray.udfs.chords import chord_beats


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
                       min_share: float = 0.25, min_bpm: float = 30.0, max_bpm: float = 300.0,
                       octave_min_share: float | None = None) -> float:
    """``tempo_bpm`` if the onset envelope repeats at that period, else the period it does repeat at.

    librosa weighs its whole tempogram by a log-normal prior around 120 BPM; when the music's periodicities
    sit far from 120 (a slow chorale without drums: autocorrelation peaks at 89 and 172 BPM) the prior can
    win between them (123 BPM, a period nothing in the music has). Supported: an autocorrelation peak within
    ``tolerance`` (or 1.5 frames, coarser at fast tempi) whose prominence is at least ``min_share`` of the
    most prominent peak's. Otherwise the peak with the most prominence × that same prior is taken — unless
    ``tempo_bpm`` is twice or half that peak's tempo and its own peak reaches ``octave_min_share`` (default
    ``min_share``): which octave is the beat is ``metric_level``'s question, not this one's (a real electro
    track at 140 BPM repeats most strongly every two beats)."""
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
    support = float(prominence[near].max(initial=0.0)) / prominence.max()
    if support >= min_share:
        return float(tempo_bpm)
    prior = np.exp(-0.5 * np.log2(tempi / 120.0) ** 2)
    best_bpm = float(tempi[int(np.argmax(prominence * prior))])
    octave = any(abs(tempo_bpm / best_bpm - f) <= tolerance * f for f in (2.0, 0.5))
    if octave and support >= (min_share if octave_min_share is None else octave_min_share):
        return float(tempo_bpm)
    return best_bpm


def comb_tempo_bpm(onset_env: np.ndarray, frame_rate_hz: float, min_bpm: float = 40.0, max_bpm: float = 200.0,
                   prior_bpm: float = 120.0, threshold_sec: float = 0.2, multiples: int = 4) -> float | None:
    """The beat period a shift-invariant comb filterbank finds in the onset envelope (Davies & Plumbley, "Context-dependent
    beat tracking of musical audio", IEEE TASLP 2007), for music whose envelope shows no single clear period.

    The envelope less its moving median (``threshold_sec``), half-wave rectified, keeps the note attacks and drops the
    slow swell and vibrato ripple of strings and choir; its autocorrelation (per overlapping pair, so long lags are not
    penalised) is summed over ``multiples`` multiples of each candidate period, each with its ±(p−1) lag spread, and
    weighted by their Rayleigh prior peaking at ``prior_bpm``. One lag of agreement at the beat, the bar and between
    is what a slow-attack piece has where a single autocorrelation peak does not stand out. None when the envelope is
    flat or shorter than ``multiples`` of the longest period: no evidence, and the prior alone is no tempo."""
    import librosa
    from scipy.ndimage import median_filter

    width = max(3, int(round(threshold_sec * frame_rate_hz)) | 1)
    x = np.maximum(onset_env - median_filter(onset_env, width, mode="nearest"), 0.0)
    x = x - x.mean()
    lags = np.arange(max(1, int(60.0 * frame_rate_hz / max_bpm)), int(60.0 * frame_rate_hz / min_bpm) + 1)
    if len(x) <= multiples * lags[-1] + multiples or not np.any(x):
        return None
    ac = librosa.autocorrelate(x, max_size=multiples * lags[-1] + multiples)
    ac = ac / (len(x) - np.arange(len(ac)))
    score = np.array([sum(ac[p * tau - p + 1:p * tau + p].sum() / (2 * p - 1) for p in range(1, multiples + 1)) for tau in lags])
    beta = 60.0 * frame_rate_hz / prior_bpm
    weight = lags / beta ** 2 * np.exp(-lags ** 2 / (2 * beta ** 2))
    return float(60.0 * frame_rate_hz / lags[int(np.argmax(score * weight))])


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


def beat_alternation(env: np.ndarray, beat_times_sec: np.ndarray, frame_rate_hz: float) -> tuple[float, int]:
    """(weaker / stronger mean onset strength of the even and odd beats, 1 if the odd ones are the stronger else 0)."""
    e = peaks_at(env, beat_times_sec, frame_rate_hz, radius=2)
    even, odd = e[0::2].mean(), e[1::2].mean()
    return float(min(even, odd) / max(even, odd, 1e-9)), int(odd > even)


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


def swung_off_beat_fix(beat_times_sec: np.ndarray, onset_env: np.ndarray, frame_rate_hz: float, min_height: float = 0.3,
                       max_mirror: float = 0.5) -> np.ndarray:
    """Move a grid that sits on swung off-beats back onto the beat.

    Swung eighths fall late in the beat (long-short: a 2:1 swing puts the off-beat at 2/3). A grid locked to
    the swung off-beats sees the reverse, a strong attack early in each of its beats (at 1/3-0.44) and
    nothing at the mirror position: short-long everywhere, which songs hardly do. Then the beat is that
    early attack. Needs an early peak of ``min_height`` of the grid's own (0.3: a soft kick under off-beat
    hats, stabs and bass reads ~0.33) and a weak mirror (under ``max_mirror`` of the early peak), so
    straight and triplet grids are left alone."""
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
                 any_mid_min_ratio: float = 1.0, low_mid_min_ratio: float = 0.9,
                 low_full_min_ratio: float = 0.6,
                 kick_snare_max_alternation: float = 0.7) -> np.ndarray:
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
      eighth notes stay under it); or when the low band (kick, bass) is as strong halfway as on the beats
      (``low_mid_min_ratio``: a four-on-the-floor kick read at half tempo; a 79-BPM dance song with off-beat
      hats has its kick on the beats only, low band halfway 0.58; over 149 songs read right on four GM sets
      none passed 0.77, the three 170-BPM dance, hip-hop and waltz songs read at 85 sat at 0.96–1.49) and
      the full band's mid-points pass ``double_min_ratio`` — or only ``low_full_min_ratio`` when the highs are
      not percussive (share under ``drums_min_share``, the same test as above: soft hats leave the kick and bass as the
      drums' voice; a 167-BPM hip-hop song read at 83 with highs at 0.98 and full-band mid-points 0.72 stayed halved
      under the old 0.9 share bar; loud highs weaker halfway, as in a real 83-BPM track reading 0.64 with highs at 1.31, say the read
      beats are the beats);
    - halved (keeping the stronger beats) when every other beat is much weaker than its neighbours, in the
      full band and in the high band (``half_max_alternation``: weaker/stronger mean strength; the weak
      ones are off-beats), unless the low band (``low_env``: kick, bass) hits every beat evenly (alternation
      above ``steady_low_alternation``: a four-on-the-floor kick marks them all as beats), and the halved
      tempo stays at or above ``min_bpm``; also halved when the high band (snare) and the low band (kick)
      are both stronger on the same every-other beat (``backbeat_max_alternation`` in the high band): a
      backbeat falls between kicks, so a snare that lands with the kick's strong beats is a half-time
      reading of a slow groove (kick on 1, snare on 3 of a bar at twice the tempo). Never halved when the
      low band alternates as clearly (``kick_snare_max_alternation``) but is stronger on the other beats than
      the high band: kick (and bass) on 1 and 3, snare on 2 and 4 is a backbeat at the tapped level (a
      boom-chick country groove read 0.28 in the high band and was halved onto its snare beats).
    Measured on the GM, held-out GM and chorale corpora (BENCHMARKS.md)."""
    if len(beat_times_sec) < 8:
        return beat_times_sec
    beats = np.asarray(beat_times_sec, dtype=np.float64)
    period_sec = float(np.median(np.diff(beats)))
    if period_sec <= 0:
        return beat_times_sec
    tempo_bpm = 60.0 / period_sec
    mids = (beats[:-1] + beats[1:]) / 2

    def mid_over_beats(env: np.ndarray) -> float:  # mean strength halfway between beats / on them
        return float(peaks_at(env, mids, frame_rate_hz, radius=2).mean() / max(peaks_at(env, beats[:-1], frame_rate_hz, radius=2).mean(), 1e-9))

    full_mid, high_mid = mid_over_beats(onset_env), mid_over_beats(high_env)
    high_share = float(high_env.mean()) / max(float(onset_env.mean()), 1e-9)
    drums = high_share >= drums_min_share
    full_bar = double_min_ratio if drums else low_full_min_ratio
    kick_between = low_env is not None and mid_over_beats(low_env) >= low_mid_min_ratio and full_mid >= full_bar
    double = ((drums and full_mid >= double_min_ratio) or kick_between
              or (high_mid >= high_mid_min_ratio and full_mid >= high_mid_full_min_ratio) or full_mid >= any_mid_min_ratio)
    if 2 * tempo_bpm <= max_bpm and double:
        doubled = np.empty(2 * len(beats) - 1)
        doubled[0::2], doubled[1::2] = beats, mids
        return doubled
    if tempo_bpm / 2 >= min_bpm:
        def alternation(env: np.ndarray) -> tuple[float, int]:
            return beat_alternation(env, beats[:-1], frame_rate_hz)

        high_alt, high_strong = alternation(high_env)
        low_alt, low_strong = alternation(low_env) if low_env is not None else (0.0, -1)
        steady_low = low_alt > steady_low_alternation
        half_time = high_alt < backbeat_max_alternation and high_strong == low_strong
        kick_vs_snare = low_env is not None and low_alt < kick_snare_max_alternation and high_alt < kick_snare_max_alternation and high_strong != low_strong
        full_alt, full_strong = alternation(onset_env)
        if (max(full_alt, high_alt) < half_max_alternation or half_time) and not steady_low and not kick_vs_snare:
            return beats[full_strong::2]
    return beat_times_sec


def harmonic_rhythm_level(beat_times_sec: np.ndarray, chords: list[dict], onset_env: np.ndarray, frame_rate_hz: float,
                          min_bpm: float, chord_beats_range: tuple[float, float] = (1.6, 2.4), min_parity: float = 0.75,
                          max_alternation: float = 0.8, min_changes: int = 8) -> np.ndarray:
    """The beats halved (keeping the stronger ones) when the grid is a subdivision of the beat the harmony moves on.

    Bach chorales change chord on every quarter and move in passing eighths; the tracker's 120-BPM prior reads a
    66–100 qpm chorale at the eighth (22 of 100 rendered chorales, BENCHMARKS.md). There the chords last two tracked
    beats (median in ``chord_beats_range``), at least ``min_parity`` of the changes land on the same one of every two
    beats, and the onsets agree: those beats are clearly the louder ones (weaker / stronger mean onset strength under
    ``max_alternation``). Songs at the right level with a chord change every half bar fail the last test: drums or
    strumming sound every beat alike (a jazz ride), and a backbeat makes the other beats the loud ones. ``chords``:
    timed labels on this grid ([{"start_sec", "end_sec", "label"}], merged). Never below ``min_bpm``."""
    beats = np.asarray(beat_times_sec, dtype=np.float64)
    if len(beats) < 8:
        return beats
    period_sec = float(np.median(np.diff(beats)))
    if period_sec <= 0 or 60.0 / period_sec / 2 < min_bpm:
        return beats
    if not chord_beats_range[0] <= chord_beats(chords, beats) <= chord_beats_range[1]:
        return beats
    played = [c for c in chords if c["label"] != "N"]
    starts = np.array([c["start_sec"] for c in played[1:]])
    if len(starts) < min_changes:
        return beats
    nearest = np.abs(starts[:, None] - beats[None, :]).argmin(axis=1)
    on_beat = nearest[np.abs(starts - beats[nearest]) < 0.1 * period_sec]
    if len(on_beat) < min_changes:
        return beats
    odd_share = float(np.mean(on_beat % 2))
    chord_parity = int(odd_share > 0.5)
    onset_alternation, louder = beat_alternation(onset_env, beats, frame_rate_hz)
    if max(odd_share, 1 - odd_share) >= min_parity and onset_alternation < max_alternation and louder == chord_parity:
        return beats[chord_parity::2]
    return beats
