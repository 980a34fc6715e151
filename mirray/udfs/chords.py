"""Chords: beat-synchronous chroma, template likelihoods, HMM (Viterbi) smoothing. Harte labels."""

from __future__ import annotations

import functools

import numpy as np

from mirray.udfs.mir import PITCH_CLASSES, parse_label, pitch_class, span_medians

QUALITIES = {  # intervals above the root; Harte shorthand
    "maj": (0, 4, 7), "min": (0, 3, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10),
}
VOCABULARIES = {"majmin": ("maj", "min"), "sevenths": ("maj", "min", "7", "maj7", "min7")}


# Pitch classes of a tone's first six harmonics (unison, octave, 12th, 2 octaves, 17th, 19th).
HARMONIC_PCS = (0, 0, 7, 0, 4, 7)


def chord_templates(vocabulary: str = "majmin", harmonic_decay: float = 0.6) -> tuple[list[str], np.ndarray]:
    """Labels (root:quality for every root, then "N") and unit-norm 12-bin templates, shape (n_chords, 12).

    Each chord tone brings its harmonics (weights ``harmonic_decay``**(h-1)), as real tones do in a
    chromagram: the third of a triad puts energy on the major seventh, the fifth on the ninth, and a
    plain-tone template would mistake triads for seventh chords. The root weighs 1.5 (it carries the bass).
    """
    labels, rows = [], []
    for quality in VOCABULARIES[vocabulary]:
        for root in range(12):
            t = np.zeros(12)
            for i, iv in enumerate(QUALITIES[quality]):
                for h, hpc in enumerate(HARMONIC_PCS):
                    t[(root + iv + hpc) % 12] += (1.5 if i == 0 else 1.0) * harmonic_decay ** h
            labels.append(f"{PITCH_CLASSES[root]}:{quality}")
            rows.append(t / np.linalg.norm(t))
    labels.append("N")
    rows.append(np.ones(12) / np.sqrt(12))
    return labels, np.array(rows)


@functools.lru_cache(maxsize=4)
def _note_dictionary(n_bins: int, bins_per_octave: int, harmonics: int = 8, decay: float = 0.8) -> np.ndarray:
    """(n_bins, n_notes), read-only and built once per shape: each semitone's CQT profile, fundamental at bin 3k (a
    C1-based CQT tuned to the recording) and ``harmonics`` partials at ``decay``**(h-1), split linearly between
    neighbouring bins."""
    per_semitone = bins_per_octave // 12
    n_notes = n_bins // per_semitone
    d = np.zeros((n_bins, n_notes))
    for k in range(n_notes):
        for h in range(1, harmonics + 1):
            pos = per_semitone * k + bins_per_octave * np.log2(h)
            lo, frac = int(pos), pos - int(pos)
            for b, w in ((lo, 1.0 - frac), (lo + 1, frac)):
                if b < n_bins:
                    d[b, k] += w * decay ** (h - 1)
    d /= np.linalg.norm(d, axis=0)
    d.flags.writeable = False
    return d


def _span_notes(cqt: np.ndarray, first_frame: int, end_frame: int) -> np.ndarray | None:
    """Note activations (one per semitone from C1) of frames [``first_frame``, ``end_frame``) of a C1-based CQT: their
    median magnitude explained as a non-negative sum of note profiles with their harmonics (``_note_dictionary``);
    None when nothing sounds there."""
    if end_frame <= first_frame:
        return None
    return _notes_of(np.median(cqt[:, first_frame:end_frame], axis=1))


def _notes_of(spectrum: np.ndarray) -> np.ndarray | None:
    """``_span_notes`` of one median CQT spectrum."""
    from scipy.optimize import nnls

    from mirray.udfs.mir import CQT_BINS_PER_OCTAVE

    if not np.any(spectrum > 0):
        return None
    d = _note_dictionary(spectrum.shape[0], CQT_BINS_PER_OCTAVE)
    return nnls(d, spectrum, maxiter=20 * d.shape[1])[0]


def nnls_span_chroma(cqt: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Chroma of each span's notes, shape (12, n_spans), spans between the strictly increasing frame ``bounds``: the
    span's median CQT magnitude (C1-based,
    ``mir.CQT_BINS_PER_OCTAVE``) explained as a non-negative sum of note profiles with their harmonics
    (``_span_notes``), the note activations folded by pitch class. Unlike folded CQT bins, a bass note's
    third harmonic counts as that note, not as the fifth above it: C/E keeps its C and gains no B (Mauch & Dixon's
    NNLS chroma, Chordino, solved per span instead of per frame)."""
    out = np.zeros((12, len(bounds) - 1))
    for i, spectrum in enumerate(span_medians(cqt, bounds).T):
        notes = _notes_of(spectrum)
        if notes is not None:
            out[:, i] = np.bincount(np.arange(len(notes)) % 12, weights=notes, minlength=12)
    return out


def lowest_note_pc(cqt: np.ndarray, first_frame: int, end_frame: int, bass_notes: int = 36, min_share: float = 0.6) -> int | None:
    """Pitch class of the lowest note sounding over frames [``first_frame``, ``end_frame``) of a C1-based CQT: the
    frames' notes (``_span_notes``, the solve ``nnls_span_chroma`` folds), then the lowest of the ``bass_notes`` lowest
    semitones (C1–B3) that reaches ``min_share`` of the loudest of them. A bass note's third harmonic is part of that
    note here, not a fifth above it. None when nothing sounds there."""
    notes = _span_notes(cqt, first_frame, end_frame)
    low = None if notes is None else notes[:bass_notes]
    if low is None or not np.any(low > 0):
        return None
    return int(np.argmax(low >= min_share * low.max())) % 12


def span_bounds(beat_frames: np.ndarray, n_frames: int) -> np.ndarray:
    """The frame bounds of ``estimate_chords``'s spans: before the first beat, beat to beat, after the last."""
    return np.unique(np.clip(np.concatenate([[0], np.asarray(beat_frames, dtype=int), [n_frames]]), 0, n_frames))


def song_note_chroma(span_notes: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """One 12-bin chroma of the notes sounding through a song: each span's ``nnls_span_chroma`` over its loudest
    pitch class (every beat counts alike, loud or soft), weighted by its length in frames."""
    peak = span_notes.max(axis=0)
    sounding = peak > 0
    return (span_notes[:, sounding] / peak[sounding]) @ np.diff(bounds)[sounding].astype(np.float64)


def chord_tones(root_pc: int, quality: str) -> set[int]:
    """Pitch classes of a chord: ``root_pc`` (0 = C) plus its ``QUALITIES`` intervals."""
    return {(root_pc + iv) % 12 for iv in QUALITIES[quality]}


def _tone_level(chroma_vec: np.ndarray, pc: int, chord: set[int], floor_pcs: set[int]) -> float:
    """How far pitch class ``pc`` rises above the median of ``floor_pcs``, relative to the ``chord`` tones'
    mean (0: at the floor, 1: as loud as the chord tones; 0 when the chord does not rise above the floor)."""
    floor = float(np.median([chroma_vec[p] for p in floor_pcs]))
    level = float(np.mean([chroma_vec[p] for p in chord])) - floor
    return (chroma_vec[pc] - floor) / level if level > 0 else 0.0


SEVENTH_SEMITONES = {"b7": 10, "maj7": 11}  # a seventh tone -> semitones above the root


def seventh_evidence(segment_chroma: np.ndarray, root: int, minor: bool) -> dict:
    """How far the b7 and maj7 pitch classes rise above the segment's non-chord floor, relative to the
    triad (0: at the floor, 1: as loud as the triad tones)."""
    triad = chord_tones(root, "min" if minor else "maj")
    others = set(range(12)) - triad
    return {tone: _tone_level(segment_chroma, (root + semitones) % 12, triad, others)
            for tone, semitones in SEVENTH_SEMITONES.items()}


def add_sevenths(segments: list[dict], chroma: np.ndarray, frame_times_sec: np.ndarray,
                 b7_min: float = 0.15, maj7_min: float = 0.3, beat_times_sec: np.ndarray | None = None,
                 beat_quantile: float = 0.25, dominant_b7_min: float = 0.1,
                 sources: dict[tuple[str, str], np.ndarray] | None = None, window_beats: int = 1,
                 key: str | None = None, outside_key_margin: dict[str, float] | None = None) -> list[dict]:
    """Second pass for the sevenths vocabulary: extend a triad when its seventh stands out.

    With ``beat_times_sec`` the evidence is read window by window, ``window_beats`` beats each (median chroma
    of each window in the chord), and the chord's is the ``beat_quantile`` of those: an accompaniment's seventh
    sounds through the chord, a melody's passing tone on one beat of it does not (GM corpus sevenths WCSR
    0.827 → 0.840 with one-beat windows and the same thresholds; over 0.2–0.34 quantiles and ±0.03/±0.05
    thresholds 0.83–0.85). Two-beat windows hear a broken chord whole: comping in eighths over a seventh
    chord's four tones sounds its seventh on every other beat, so one-beat windows found it in at most half of
    them and the quantile dropped it (genre seed 17, jazz and blues sevenths 0.525 → 0.764; BENCHMARKS.md).

    ``chroma`` should be the treble register's (``treble_chroma``, C3–B5), where chords are voiced: over
    the full range, bass notes and the upper partials of every part (a major third's 3rd partial is a
    maj7) blur triads into sevenths. Measured on true chord spans of the GM corpus, triad-vs-seventh
    ROC AUC rises from 0.77/0.88/0.85 (maj7, 7, min7) on full-range chroma to 0.86/0.98/0.98 on treble
    chroma (synth corpus: 0.96–0.99 → 1.0). The thresholds sit between the classes on both corpora
    (triads' 90th percentile ≤ 0.28 maj7 / ≤ 0.11 b7 evidence; half the sevenths above 0.42 / 0.44).
    The maj7 bar stays the higher: melodies lean on the maj7 of I and IV. A major triad's b7 has its own,
    lower bar (``dominant_b7_min``): a minor third's 3rd partial is the chord's b7 (a plain harmonic-rich
    C minor triad reads 0.13), while nothing in a major triad's partials lands there. On 13,434
    triad-right segments of nine GM sets plain major triads stayed ≤ 0.00 in 90 % (minor ≤ 0.05), and a
    quarter of the dominant sevenths read ≤ 0.14. Not lower than 0.1: a bass as loud as the chord, with
    sawtooth partials, puts its 7th partial on the b7 (0.09).

    ``sources`` maps (triad quality, tone) to the chroma (same frames) that tone is read from instead of ``chroma``:
    - ("maj", "b7"): ``treble_centre_chroma``. A played seventh is tempered, the 7th partial of the bass or of the root
      31 cents flat, so the centre bins keep the first and drop most of the second (GM dev set, true chord spans,
      major triad vs dominant seventh: ROC AUC 0.972 → 0.981, sevenths' lower quartile 0.10 → 0.18, triads' 90th
      percentile −0.03 → −0.01). Not for minor triads: a minor third's 3rd partial is a tempered b7 of the root.
    - ("maj", "maj7"): ``low_treble_chroma``, the accompaniment's register below C5, not the melody's above it, which
      leans on the maj7 of I and IV (GM dev set, true spans, major triad vs maj7: ROC AUC 0.948 → 0.968; at the 0.3 bar
      triads called maj7 72 → 11 s, maj7s found 0.79 → 0.74 of their time; C4–B5 alone: AUC 0.900).
    - ("min", "b7"): ``low_treble_chroma`` too, with its own bar (``b7_min`` then ~0.05): the minor third's 3rd
      partial, a tempered b7, sounds an octave and a fifth above the third, above B4 for chords voiced around C4
      (min vs min7 ROC AUC, 3-bin C3–B5 → C3–B4: GM dev 0.974 → 0.999, genre set 0.842 → 0.939, seed 89 0.900 → 0.983;
      ``benchmarks/seventh_evidence_study.py``).

    With ``key`` ("A minor"), a seventh outside the key's scale (natural minor plus its leading tone) needs
    ``outside_key_margin[tone]`` ("b7", "maj7") more evidence than its bar: a chord's seventh is mostly a scale tone
    (Imaj7's is the leading tone, V7's the 4th degree), while a melody's passing tone or a neighbour chord's leak lands
    anywhere (V read with a major seventh on the raised 4th). Blues I7 and IV7 are the common exception for the b7: a
    0.1 margin on both tones moved sevenths WCSR −0.001 to +0.008 on six pop GM sets but cost the genre set's blues
    0.726 → 0.633 (BENCHMARKS.md, session 34), so only the maj7 has one by default. ``key`` is the song's key before the
    final chords (the first pass's), one key for the whole song.
    """
    if window_beats < 1:
        raise ValueError(f"window_beats must be at least 1, not {window_beats}")
    scale = key_scale(key) if key and outside_key_margin and any(outside_key_margin.values()) else None
    for seg in segments:
        if seg["label"] == "N":
            continue
        root_name, quality, _ = parse_label(seg["label"])
        inner = [] if beat_times_sec is None else [t for t in beat_times_sec if seg["start_sec"] + 0.05 < t < seg["end_sec"] - 0.05]
        edges = [seg["start_sec"], *inner[window_beats - 1::window_beats], seg["end_sec"]]
        evidence = []
        root, minor = PITCH_CLASSES.index(root_name), quality == "min"
        # where each seventh is read: each triad quality's b7 and maj7 may have a register of their own
        source = {tone: (sources or {}).get((quality, tone), chroma) for tone in ("b7", "maj7")}
        for a, b in zip(edges[:-1], edges[1:]):
            frames = (frame_times_sec >= a) & (frame_times_sec < b)
            if frames.any():
                evidence.append({k: seventh_evidence(np.median(c[:, frames], axis=1), root, minor)[k] for k, c in source.items()})
        if not evidence:
            continue
        ev = {k: float(np.quantile([e[k] for e in evidence], beat_quantile)) for k in ("b7", "maj7")}
        if scale is not None:
            ev = {k: v - (outside_key_margin.get(k, 0.0) if (root + SEVENTH_SEMITONES[k]) % 12 not in scale else 0.0)
                  for k, v in ev.items()}
        if quality == "min" and ev["b7"] >= b7_min:
            seg["label"] = f"{root_name}:min7"
        elif quality == "maj" and max(ev["b7"] - dominant_b7_min, ev["maj7"] - maj7_min) >= 0:
            seg["label"] = f"{root_name}:{'7' if ev['b7'] - dominant_b7_min >= ev['maj7'] - maj7_min else 'maj7'}"
    return segments


def key_scale(key: str) -> set[int]:
    """Pitch classes of a key ("A minor"): the major scale, or the natural minor with its leading tone (V, V7)."""
    tonic_name, mode = key.split()
    steps = (0, 2, 4, 5, 7, 9, 11) if mode == "major" else (0, 2, 3, 5, 7, 8, 10, 11)
    return {(pitch_class(tonic_name) + s) % 12 for s in steps}


BASS_DEGREES = {3: "b3", 4: "3", 7: "5", 10: "b7", 11: "7"}  # semitones above the root -> Harte bass degree


def _register(cqt: np.ndarray, low_note: str, octaves: int) -> np.ndarray:
    """The CQT rows of ``octaves`` from ``low_note`` up, of a C1-based CQT magnitude (``mir.chroma_features(..., with_cqt=True)``)."""
    import librosa

    from mirray.udfs.mir import CQT_BINS_PER_OCTAVE

    start = int(round(CQT_BINS_PER_OCTAVE * np.log2(librosa.note_to_hz(low_note) / librosa.note_to_hz("C1"))))
    return cqt[start:start + octaves * CQT_BINS_PER_OCTAVE]


def _register_chroma(cqt: np.ndarray, low_note: str, octaves: int, norm: float | None) -> np.ndarray:
    """Fold ``octaves`` of a C1-based CQT magnitude from ``low_note`` up."""
    import librosa

    from mirray.udfs.mir import CQT_BINS_PER_OCTAVE

    return librosa.feature.chroma_cqt(C=_register(cqt, low_note, octaves), fmin=librosa.note_to_hz(low_note),
                                      bins_per_octave=CQT_BINS_PER_OCTAVE, norm=norm)


def treble_chroma(cqt: np.ndarray) -> np.ndarray:
    """Chroma of the treble register (C3–B5, 131–988 Hz), where chords are voiced; shape (12, n_frames).
    The split into bass and treble chroma follows Mauch & Dixon's NNLS chroma (Chordino)."""
    return _register_chroma(cqt, "C3", 3, np.inf)


def treble_centre_chroma(cqt: np.ndarray) -> np.ndarray:
    """Like ``treble_chroma`` from the centre bin of each semitone only (the CQT is tuned to the recording): tempered
    notes, not the 31-cent-flat 7th partials of lower notes (``add_sevenths``); shape (12, n_frames)."""
    from mirray.udfs.mir import CQT_BINS_PER_OCTAVE

    centre = _register(cqt, "C3", 3)[::CQT_BINS_PER_OCTAVE // 12].reshape(3, 12, -1).sum(axis=0)
    return centre / np.maximum(centre.max(axis=0, keepdims=True), 1e-12)


def low_treble_chroma(cqt: np.ndarray) -> np.ndarray:
    """Chroma of C3–B4 only, the accompaniment's register under a melody (``add_sevenths``); shape (12, n_frames)."""
    return _register_chroma(cqt, "C3", 2, np.inf)


def bass_chroma(cqt: np.ndarray) -> np.ndarray:
    """Unnormalised chroma of the bass register (C1–B2, 33–123 Hz), shape (12, n_frames)."""
    return _register_chroma(cqt, "C1", 2, None)


def _first_beat_frames(seg: dict, frame_times_sec: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Mask of the frames in the chord's first beat (all False when none falls there)."""
    later = beats[beats > seg["start_sec"] + 0.05]
    end = min(seg["end_sec"], later[0]) if len(later) else seg["end_sec"]
    return (frame_times_sec >= seg["start_sec"]) & (frame_times_sec < end)


def bass_level(bass: np.ndarray, quantile: float = 50.0) -> np.ndarray:
    """Each pitch class's ``quantile`` (percent) over these frames of bass chroma. Under the median (50), a kick on the
    beat, loud in every low pitch class for a few frames, outweighs less of a held bass note (``mir.chord_bass_quantile``)."""
    return np.percentile(bass, quantile, axis=1)


def _first_beat_bass(seg: dict, bass: np.ndarray, frame_times_sec: np.ndarray, beats: np.ndarray,
                     quantile: float = 50.0) -> np.ndarray | None:
    """``bass_level`` over the chord's first beat (None when no frame falls there)."""
    frames = _first_beat_frames(seg, frame_times_sec, beats)
    return bass_level(bass[:, frames], quantile) if frames.any() else None


def _is_note(v: np.ndarray, usual: float, min_peak: float, min_level: float) -> bool:
    """Whether the strongest pitch class of bass chroma ``v`` is an actual note: ``min_peak`` × above the
    register's median pitch class (not leakage from higher parts) and at least ``min_level`` × the song's
    ``usual`` bass level (a bass-less intro's leakage has a shape of its own)."""
    return bool(v.max() >= min_peak * max(np.median(v), 1e-12) and v.max() >= min_level * usual)


def _usual_bass(bass: np.ndarray) -> float:
    """The song's usual bass level: upper quartile of each frame's strongest bass pitch class."""
    return float(np.percentile(bass.max(axis=0), 75)) if bass.size else 0.0


def add_inversions(segments: list[dict], bass: np.ndarray, frame_times_sec: np.ndarray, beat_times_sec: list[float],
                   min_ratio: float = 1.5, min_peak: float = 3.0, min_level: float = 0.2, cqt: np.ndarray | None = None,
                   bass_quantile: float = 50.0) -> list[dict]:
    """Name the bass ("C:maj/3") where a chord tone other than the root is clearly the lowest note.

    Read on the chord's first beat only: a bass that walks to the fifth later in the bar is not an
    inversion. The bass note must be an actual note (``_is_note``: ``min_peak``, ``min_level``) and
    stand ``min_ratio`` × above the root. A maj7 whose strongest bass pitch class is its third becomes the
    plain triad (even when the bass is too weak to name): the bass note's 3rd partial sounds the maj7, an
    octave and a fifth up, in the treble register the sevenths are read from.
    With ``cqt`` (C1-based, on ``frame_times_sec``), the inversion must also be the lowest note the notes solve finds on
    that beat (``lowest_note_pc``): a root-position bass whose fundamental is weak leaves its third harmonic (the fifth,
    an octave and a fifth up) and fifth harmonic (the third) strongest in the folded bass chroma.
    """
    beats = np.asarray(beat_times_sec, dtype=np.float64)
    usual = _usual_bass(bass)
    for seg in segments:
        if seg["label"] == "N":
            continue
        root_name, quality, _ = parse_label(seg["label"])
        frames = _first_beat_frames(seg, frame_times_sec, beats)
        if not frames.any():
            continue
        v = bass_level(bass[:, frames], bass_quantile)
        low = int(np.argmax(v))
        root = pitch_class(root_name)
        interval = (low - root) % 12
        if quality == "maj7" and interval == 4:
            quality = "maj"
            seg["label"] = f"{root_name}:maj"
        if (interval in BASS_DEGREES and interval in QUALITIES[quality] and _is_note(v, usual, min_peak, min_level)
                and v[low] >= min_ratio * v[root]):
            if cqt is not None:
                where = np.flatnonzero(frames)
                if lowest_note_pc(cqt, int(where[0]), int(where[-1]) + 1) != low:
                    continue
            seg["label"] = f"{root_name}:{quality}/{BASS_DEGREES[interval]}"
    return segments


def diatonic_bonus(labels: list[str], key: str | None, bonus: float) -> np.ndarray:
    """``bonus`` for each label whose triad belongs to ``key`` ("A minor"), 0 elsewhere (and for "N")."""
    from mirray.udfs.mir import DIATONIC, pitch_class

    out = np.zeros(len(labels))
    if not key or not bonus:
        return out
    tonic_name, mode = key.split()
    tonic = pitch_class(tonic_name)
    for i, label in enumerate(labels):
        if label != "N":
            root, quality, _ = parse_label(label)
            out[i] = bonus if quality in DIATONIC[mode].get((pitch_class(root) - tonic) % 12, ()) else 0.0
    return out


def metric_change_prob(span_starts_sec: np.ndarray, beat_times_sec: list[float], downbeat_times_sec: list[float],
                       beats_per_bar: int | None, p_downbeat: float = 0.5, p_half_bar: float = 0.05,
                       p_other: float = 0.005) -> np.ndarray:
    """Probability that the chord changes where each span starts, by its place in the bar.

    Chords change on the downbeat most, on the half bar (4/4, 6/8) often, elsewhere rarely: a bass that
    walks to the fifth on beat 3 of a rock bar, or a melody note on beat 2, should not look like a
    new chord. Spans before the first downbeat (or without downbeats) get ``p_half_bar``.
    """
    starts = np.asarray(span_starts_sec, dtype=np.float64)
    out = np.full(len(starts), p_half_bar)
    downbeats, beats = np.asarray(downbeat_times_sec, dtype=np.float64), np.asarray(beat_times_sec, dtype=np.float64)
    if not len(downbeats) or not beats_per_bar:
        return out
    tol = 0.05
    bar = np.searchsorted(downbeats, starts + tol) - 1
    for i in np.flatnonzero(bar >= 0):
        if len(beats) and np.min(np.abs(beats - starts[i])) > tol:  # a span between beats (half-beat grid)
            out[i] = p_other
            continue
        position = int(np.sum((beats >= downbeats[bar[i]] - tol) & (beats < starts[i] - tol)))  # beats since the downbeat
        half = beats_per_bar % 2 == 0 and position == beats_per_bar // 2
        out[i] = p_downbeat if position == 0 else (p_half_bar if half else p_other)
    return out


def _viterbi_uniform_switch(log_obs: np.ndarray, log_stay: np.ndarray, log_switch: np.ndarray) -> np.ndarray:
    """Best state path when at step t every state stays with log-prob ``log_stay[t]`` or moves to any other
    state with ``log_switch[t]`` (time-varying, which librosa's fixed-matrix Viterbi cannot express).
    O(states × steps): the best predecessor of a switch is the best other state."""
    n_states, n_steps = log_obs.shape
    score = log_obs[:, 0].copy()
    back = np.zeros((n_states, n_steps), dtype=int)
    idx = np.arange(n_states)
    for t in range(1, n_steps):
        first, second = np.argsort(-score)[:2] if n_states > 1 else (0, 0)
        source = np.where(idx == first, second, first)
        stay, switch = score + log_stay[t], score[source] + log_switch[t]
        back[:, t] = np.where(stay >= switch, idx, source)
        score = np.maximum(stay, switch) + log_obs[:, t]
    path = np.zeros(n_steps, dtype=int)
    path[-1] = int(np.argmax(score))
    for t in range(n_steps - 1, 0, -1):
        path[t - 1] = back[path[t], t]
    return path


def _merged(segments: list[dict]) -> list[dict]:
    """Neighbours with the same label joined into one segment."""
    out: list[dict] = []
    for seg in segments:
        if out and out[-1]["label"] == seg["label"]:
            out[-1]["end_sec"] = seg["end_sec"]
        else:
            out.append(dict(seg))
    return out


def reroot_over_bass(segments: list[dict], bass: np.ndarray, frame_times_sec: np.ndarray, beat_times_sec: list[float],
                     downbeat_times_sec: list[float], vocabulary: str = "sevenths", min_peak: float = 2.5, min_level: float = 0.2,
                     tol_sec: float = 0.1, bass_quantile: float = 50.0) -> list[dict]:
    """Name a bar's triad after the bass note a third below it when that note is no tone of the triad and
    the two make a seventh chord: B♭m over F♯ is F♯maj7, D♭ over B♭ is B♭m7 (the triad is the seventh chord's
    upper structure). Read on the first beat of chords that start on a downbeat, where a walking bass plays
    the root; the bass must be an actual note (``_is_note``). Without it the triad's three tones outvote the
    root: a walking bass (root, 3rd, 5th, 7th) sounds the upper triad on three beats of four. With the majmin
    vocabulary the new chord keeps only its triad (F♯, B♭m). ``min_peak`` is lower than ``add_inversions``'s 3:
    a bass note a third under the triad is itself the evidence (walking bass downbeats read 2.9–3.0; genre
    seed 17 jazz majmin 0.782 at 3, 0.807 at 2.5, no set lower: BENCHMARKS.md)."""
    beats = np.asarray(beat_times_sec, dtype=np.float64)
    downbeats = np.asarray(downbeat_times_sec, dtype=np.float64)
    if not len(downbeats):
        return segments
    usual = _usual_bass(bass)
    for seg in segments:
        if seg["label"] == "N" or np.min(np.abs(downbeats - seg["start_sec"])) > tol_sec:
            continue
        root_name, quality, _ = parse_label(seg["label"])
        v = _first_beat_bass(seg, bass, frame_times_sec, beats, bass_quantile)
        if quality not in ("maj", "min") or v is None or not _is_note(v, usual, min_peak, min_level):
            continue
        low = int(np.argmax(v))
        below = (pitch_class(root_name) - low) % 12  # how far the bass lies under the triad's root
        seventh = {("min", 4): "maj7", ("maj", 3): "min7"}.get((quality, below))
        if seventh:
            seg["label"] = f"{PITCH_CLASSES[low]}:{seventh if vocabulary == 'sevenths' else seventh[:3]}"
    return segments


def merge_upper_structures(segments: list[dict], chroma: np.ndarray, frame_times_sec: np.ndarray,
                           downbeat_times_sec: list[float], vocabulary: str = "sevenths",
                           seventh_min: float = 0.05, root_min: float = 0.1, tol_sec: float = 0.1) -> list[dict]:
    """Join a chord that starts after the downbeat and ends by the next one to the chord before it when its
    triad is that chord's 3rd, 5th and 7th (E♭ then Gm = E♭maj7, Fm then A♭ = Fm7, C then Em = Cmaj7)
    and the evidence says one seventh chord sounded through: the 7th already in the first part
    (``seventh_min``) and the root still in the second (``root_min``), each as high above the other pitch
    classes' median as ``seventh_evidence`` measures it (on ``chroma``, the treble register). A walking bass that leaves the root mid-bar otherwise hands the
    bar's second half to the chord of its upper three notes. With the sevenths vocabulary the joined chord is
    named with its seventh; with majmin it keeps its triad."""
    def level_in(seg: dict, pc: int, chord: set[int]) -> float | None:  # median chroma over the segment
        frames = (frame_times_sec >= seg["start_sec"]) & (frame_times_sec < seg["end_sec"])
        return _tone_level(np.median(chroma[:, frames], axis=1), pc, chord, set(range(12)) - chord - {pc}) if frames.any() else None

    downbeats = np.asarray(downbeat_times_sec, dtype=np.float64)
    out: list[dict] = []
    for seg in segments:
        prev = out[-1] if out else None
        later = downbeats[downbeats > seg["start_sec"] + tol_sec]
        candidate = (prev is not None and "N" not in (seg["label"], prev["label"])
                     and np.min(np.abs(downbeats - seg["start_sec"])) >= tol_sec  # starts after a downbeat
                     and not (len(later) and seg["end_sec"] > later[0] + tol_sec))  # and ends by the next one
        joined = None
        if candidate:
            p_root, p_q, _ = parse_label(prev["label"])
            c_root, c_q, _ = parse_label(seg["label"])
            if p_q in ("maj", "min") and c_q in ("maj", "min"):
                r = pitch_class(p_root)
                triad, upper = chord_tones(r, p_q), chord_tones(pitch_class(c_root), c_q)
                q7 = next((q for q in (("maj7", "7") if p_q == "maj" else ("min7",)) if upper <= chord_tones(r, q)), None)
                if q7 and upper != triad:
                    first, second = level_in(prev, (chord_tones(r, q7) - triad).pop(), triad), level_in(seg, r, upper)
                    if first is not None and second is not None and first >= seventh_min and second >= root_min:
                        joined = q7
        if joined:
            prev["end_sec"] = seg["end_sec"]
            if vocabulary == "sevenths":
                prev["label"] = f"{p_root}:{joined}"
        else:
            out.append(dict(seg))
    return out


def inner_part_end(start_sec: float, end_sec: float, downbeats: np.ndarray, tol_sec: float = 0.1) -> float | None:
    """Where the part of a chord [``start_sec``, ``end_sec``) inside its first bar ends (the next downbeat, or the chord's
    end before it); None when the chord starts on a downbeat (within ``tol_sec``) or there are none."""
    if not len(downbeats) or np.min(np.abs(downbeats - start_sec)) < tol_sec:
        return None
    later = downbeats[downbeats > start_sec + tol_sec]
    return min(end_sec, later[0]) if len(later) else end_sec


def brings_no_new_note(chroma: np.ndarray, frame_times_sec: np.ndarray, start_sec: float, end_sec: float, label: str,
                       share: float) -> bool:
    """Whether every pitch class of ``chroma`` (median over frames [``start_sec``, ``end_sec``)) at ``share`` or more
    of the loudest is a tone of chord ``label``; False where no frame or nothing sounds."""
    frames = (frame_times_sec >= start_sec) & (frame_times_sec < end_sec)
    if not frames.any():
        return False
    v = np.median(chroma[:, frames], axis=1)
    root, quality, _ = parse_label(label)
    return bool(v.max() > 0) and set(np.flatnonzero(v >= share * v.max()).tolist()) <= chord_tones(pitch_class(root), quality)


def join_inner_changes(segments: list[dict], chroma: np.ndarray, frame_times_sec: np.ndarray, downbeat_times_sec: list[float],
                       share: float = 0.6, tol_sec: float = 0.1) -> list[dict]:
    """Undo chord changes inside a bar that no note calls for: where a chord starts off the downbeat and its part up
    to the next downbeat ``brings_no_new_note`` beyond the chord before it, that part goes back to the chord before.
    A broken chord or walking bass that sits on the fifth for half a bar otherwise reads as the fifth's own triad
    (A♭ for two beats, then E♭ on its E♭s): the root weighs most in a template, and the half-bar prior is weak because
    real harmony does change there. A real change brings a note the first chord lacks (C → Am its A, C → G its B and D)."""
    downbeats = np.asarray(downbeat_times_sec, dtype=np.float64)
    out: list[dict] = []
    for seg in segments:
        seg = dict(seg)
        prev = out[-1] if out else None
        bar_end = inner_part_end(seg["start_sec"], seg["end_sec"], downbeats, tol_sec)
        if (prev is not None and bar_end is not None and "N" not in (prev["label"], seg["label"])
                and brings_no_new_note(chroma, frame_times_sec, seg["start_sec"], bar_end, prev["label"], share)):
            if seg["end_sec"] <= bar_end + tol_sec:
                prev["end_sec"] = seg["end_sec"]
                continue
            prev["end_sec"] = seg["start_sec"] = bar_end
        out.append(seg)
    return out


def chord_beats(chord_list: list[dict], beat_times_sec: list[float]) -> float:
    """Median length of the chords, in beats (harmonic rhythm: ~1 for a chorale, 2-8 for pop); inf without any."""
    if len(beat_times_sec) < 2 or not chord_list:
        return float("inf")
    beat_sec = float(np.median(np.diff(beat_times_sec)))
    return float(np.median([(c["end_sec"] - c["start_sec"]) / beat_sec for c in chord_list if c["label"] != "N"] or [np.inf]))


def notes_per_beat(chroma: np.ndarray, beat_frames: np.ndarray, share: float = 0.5) -> float:
    """Median, over the beat spans, of the pitch classes sounding at ``share`` or more of the span's strongest
    (median chroma of each span): ~1 where each beat holds one note (a broken chord, an arpeggio), 2–4 for block chords."""
    bounds = np.unique(np.clip(np.asarray(beat_frames, dtype=int), 0, chroma.shape[1]))
    spans = span_medians(chroma, bounds).T
    counts = [int(np.sum(v >= share * v.max())) for v in spans if v.max() > 0]
    return float(np.median(counts)) if counts else 0.0


def fast_harmony(first_chords: list[dict], beat_times_sec: list[float], half_beats_at_most: float,
                 beat_notes: float | None = None, min_notes: float = 1.5, tempo_bpm: float | None = None,
                 max_tempo_bpm: float = float("inf")) -> bool:
    """Whether the first-pass chords last ``half_beats_at_most`` beats or less (median): music that changes
    chord on every beat, like a chorale. Not above ``max_tempo_bpm`` (``tempo_bpm``): harmony that changes on every
    beat of a fast tempo (two chords a second and more) is rarer than a walking bass whose notes the first pass reads
    as chords (two swing songs at 154 and 156 BPM decoded chorale-style: numerals 0.28 and 0.33; 0.81 and 0.55 on
    beats). Not when most beats hold a single note (``beat_notes``, from ``notes_per_beat``, under ``min_notes``):
    over an arpeggio each beat's one note reads as its own major triad, so first-pass chords a beat long say nothing
    about the harmonic rhythm (a swing song's broken chords, each a bar long, decoded as a chorale: majmin 0.37; on
    beats, with the downbeat bass and the key read again, 0.77). The count does not separate textures cleanly: 2 of
    40 rendered Bach chorales (a loud soprano) also read 1 and are decoded on beats; their keys stayed right, and the
    18 RomanText organ chorales read the same (BENCHMARKS.md)."""
    if (beat_notes is not None and beat_notes < min_notes) or (tempo_bpm or 0.0) > max_tempo_bpm:
        return False
    return chord_beats(first_chords, beat_times_sec) <= half_beats_at_most


def decoding_frames(beat_frames: np.ndarray, fast: bool) -> np.ndarray:
    """The frames the final chords are decoded on: the beats, plus the half-beats where the harmony is ``fast``
    (``fast_harmony``): music that changes chord on every beat, a chorale, also changes on some eighths; pop's
    melody eighths would only add false changes."""
    if len(beat_frames) < 2 or not fast:
        return beat_frames
    return np.unique(np.concatenate([beat_frames, (beat_frames[:-1] + beat_frames[1:]) // 2]))


def downbeat_bass_in_chord(bass: np.ndarray, bounds: np.ndarray, span_starts_sec: np.ndarray, downbeat_times_sec: list[float],
                           labels: list[str], min_peak: float = 3.0, min_level: float = 0.2, tol_sec: float = 0.05,
                           bass_quantile: float = 50.0) -> np.ndarray:
    """(n_chords, n_spans): how clearly the bass note on each bar's downbeat is one of each chord's tones, for
    every span of that bar (0 before the first downbeat and where the downbeat's bass is no clear note): the
    level above the register's median of the chord's strongest tone there, relative to the strongest pitch
    class's (1: the bass note is a chord tone). Bass lines play a chord tone on the downbeat (the root, the
    third of an inverted chord) and walk through other notes after it; summed over the bar a walk (F♯–A–C♯–E
    under F♯m7) can outvote the root with a triad (A major) that the downbeat's bass note is not part of.
    Every chord tone counts alike: crediting the root alone pulls inverted chords onto their bass note
    (inversion benchmark majmin 0.841 → 0.729; BENCHMARKS.md)."""
    out = np.zeros((len(labels), len(span_starts_sec)))
    downbeats = np.asarray(downbeat_times_sec, dtype=np.float64)
    usual = _usual_bass(bass)
    member = np.zeros((len(labels), 12))  # chord x pitch class: 1 for the chord's tones
    for c, label in enumerate(labels):
        if label != "N":
            root, quality, _ = parse_label(label)
            member[c, list(chord_tones(pitch_class(root), quality))] = 1.0
    level = None
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):  # bounds are strictly increasing: every span has frames
        if np.min(np.abs(downbeats - span_starts_sec[i])) <= tol_sec:  # a new bar: read its downbeat's bass
            v = bass_level(bass[:, a:b], bass_quantile)
            level = (np.clip((v - np.median(v)) / max(v.max() - np.median(v), 1e-12), 0.0, 1.0)
                     if _is_note(v, usual, min_peak, min_level) else None)
        if level is not None:
            out[:, i] = (member * level[None, :]).max(axis=1)
    return out


def estimate_chords(chroma: np.ndarray, frame_times_sec: np.ndarray, beat_frames: np.ndarray, duration_sec: float,
                    vocabulary: str = "sevenths", self_transition: float = 0.9, sharpness: float = 40.0,
                    key: str | None = None, key_bonus: float = 0.02, meter: dict | None = None,
                    seventh_chroma: tuple[np.ndarray, np.ndarray] | None = None, seventh_thresholds: dict | None = None,
                    compression: float = 0.0, upper_structures: bool = False, bass: np.ndarray | None = None,
                    downbeat_bass_weight: float = 0.0, reroot: bool = False, inner_change_share: float = 0.0,
                    inner_change_min_chord_beats: float = 0.0,
                    seventh_sources: dict[tuple[str, str], np.ndarray] | None = None, span_notes: np.ndarray | None = None,
                    note_weight: float = 0.25, bass_quantile: float = 50.0, key_segments: list[dict] | None = None) -> list[dict]:
    """Timed chord labels. ``chroma``: (12, n_frames) with frame times ``frame_times_sec``; beats as frame indices.

    Each inter-beat span gets major/minor template cosine similarities, turned into probabilities with
    a softmax of ``sharpness``; a Viterbi pass with a ``self_transition`` loop keeps chords from
    flickering. With a ``key``, chords diatonic to it gain ``key_bonus`` of similarity: a small prior
    (most chords in a song are diatonic) that settles near-ties a melody note or a seventh creates,
    not a rule (borrowed chords and secondary dominants still win on clear evidence); with ``key_segments``
    ([{"start_sec", "end_sec", "key"}], a song that changes key) each span's prior is its own segment's key. Spans of (near)
    silence are "N". For the sevenths vocabulary a second pass extends triads whose seventh stands out
    (``add_sevenths``) in ``seventh_chroma`` ((chroma, frame times), e.g. ``treble_chroma``; default:
    ``chroma``; ``seventh_sources``: ``add_sevenths``'s ``sources``, on the same frames). With ``meter`` (``beat_times_sec``, ``downbeat_times_sec``, ``beats_per_bar`` and
    optional ``p_downbeat``/``p_half_bar``/``p_other``), the chance of a change depends on the place in
    the bar (``metric_change_prob``) instead of the fixed ``self_transition``. With ``compression`` > 0 the
    templates are matched against log(1 + compression × chroma) (log-compressed chroma, as Müller's CLP): on
    linear chroma a melody note several times louder than each accompaniment tone decides the span alone — the
    next chord's root sung on beat 4 moves the change a beat early. With ``meter`` and ``upper_structures``, a
    mid-bar change to the upper three notes of the bar's seventh chord is joined back (``merge_upper_structures``).
    With ``meter``, ``bass`` (``bass_chroma``, same frames) and ``downbeat_bass_weight`` > 0, every span of a bar adds
    that weight × how clearly the bar's downbeat bass note is one of the chord's tones (``downbeat_bass_in_chord``);
    with ``reroot`` too, a bar's triad over a bass a third below becomes that bass note's seventh chord (``reroot_over_bass``).
    With ``meter`` and ``inner_change_share`` > 0, a change inside a bar that brings no new note of that share of the
    loudest goes back to the chord before it (``join_inner_changes``), where the chords last ``inner_change_min_chord_beats``
    beats or more (median, ``chord_beats``): in a chorale, whose chords change on every beat, a chord that sounds only
    notes of the one before is voice leading.
    With ``span_notes`` (12, n_spans), the notes of each span between ``span_bounds(beat_frames, n_frames)``
    (``nnls_span_chroma`` of the C1-based CQT the chroma folds), each span's similarity is ``note_weight`` × its
    notes' (against plain-tone templates) plus the rest × its folded chroma's.
    Returns [{"start_sec", "end_sec", "label"}], merged.
    """
    labels, templates = chord_templates("majmin")
    n_frames = chroma.shape[1]
    bounds = span_bounds(beat_frames, n_frames)
    if len(bounds) < 2:
        return []
    if span_notes is not None and span_notes.shape != (12, len(bounds) - 1):
        raise ValueError(f"span_notes must be (12, {len(bounds) - 1}) for these beats, not {span_notes.shape}")
    # median chroma of each span: before the first beat, beat to beat, after the last
    sync = span_medians(chroma, bounds)
    energy = np.add.reduceat(chroma.sum(axis=0), bounds[:-1])
    norms = np.linalg.norm(sync, axis=0)
    if compression > 0:  # one loud melody note must not outvote the accompaniment's three
        sync = np.log1p(compression * sync)
    unit = sync / np.maximum(np.linalg.norm(sync, axis=0), 1e-9)
    sim = templates @ unit  # (n_chords, n_spans)
    if span_notes is not None and note_weight:  # plain-tone templates: the notes carry no harmonics left to model
        notes = span_notes
        if compression > 0:
            notes = np.log1p(compression * notes / np.maximum(notes.max(axis=0), 1e-12))
        notes_sim = chord_templates("majmin", harmonic_decay=0.0)[1] @ (notes / np.maximum(np.linalg.norm(notes, axis=0), 1e-9))
        sim = (1.0 - note_weight) * sim + note_weight * notes_sim
    sim[-1] = 0.0  # "N" only for silence: a chord-less span is likelier a melody note over a held chord
    times = np.append(frame_times_sec[np.minimum(bounds[:-1], len(frame_times_sec) - 1)], duration_sec)
    times[0] = 0.0
    span_keys = [key] * (len(times) - 1)
    if key_segments:  # the key at each span's start; the song's key outside every segment
        span_keys = [next((seg["key"] for seg in key_segments if seg["start_sec"] <= t < seg["end_sec"]), key) for t in times[:-1]]
    priors = {k: diatonic_bonus(labels, k, key_bonus) for k in set(span_keys)}
    sim += np.stack([priors[k] for k in span_keys], axis=1)
    if bass is not None and downbeat_bass_weight and meter and meter.get("downbeat_times_sec"):
        sim += downbeat_bass_weight * downbeat_bass_in_chord(bass, bounds, times[:-1], meter["downbeat_times_sec"], labels,
                                                                  bass_quantile=bass_quantile)
    silent = (norms < 1e-6) | (energy < 1e-6 * max(energy.max(), 1e-12))
    sim[:, silent] = 0.0
    sim[-1, silent] = 1.0
    log_obs = sharpness * (sim - sim.max(axis=0))
    log_obs -= np.log(np.exp(log_obs).sum(axis=0))
    if meter:
        change = metric_change_prob(times[:-1], meter["beat_times_sec"], meter["downbeat_times_sec"] or [], meter["beats_per_bar"],
                                    **{k: meter[k] for k in ("p_downbeat", "p_half_bar", "p_other") if k in meter})
    else:
        change = np.full(len(times) - 1, 1.0 - self_transition)
    path = _viterbi_uniform_switch(log_obs, np.log1p(-change), np.log(change / (len(labels) - 1)))
    out = _merged([{"start_sec": float(times[i]), "end_sec": float(times[i + 1]), "label": labels[state]}
                   for i, state in enumerate(path) if times[i + 1] > times[i]])
    if meter and upper_structures and meter.get("downbeat_times_sec"):
        out = merge_upper_structures(out, *(seventh_chroma or (chroma, frame_times_sec)), meter["downbeat_times_sec"],
                                     "sevenths" if vocabulary == "sevenths" else "majmin")
    if (meter and inner_change_share and meter.get("downbeat_times_sec")
            and chord_beats(out, meter["beat_times_sec"]) >= inner_change_min_chord_beats):
        out = _merged(join_inner_changes(out, chroma, frame_times_sec, meter["downbeat_times_sec"], inner_change_share))
    if meter and reroot and bass is not None and meter.get("downbeat_times_sec"):
        out = _merged(reroot_over_bass(out, bass, frame_times_sec, meter["beat_times_sec"], meter["downbeat_times_sec"], vocabulary,
                                        bass_quantile=bass_quantile))
    if vocabulary == "sevenths":
        beat_times = frame_times_sec[np.clip(np.asarray(beat_frames, dtype=int), 0, len(frame_times_sec) - 1)]
        out = add_sevenths(out, *(seventh_chroma or (chroma, frame_times_sec)), beat_times_sec=beat_times,
                           sources=seventh_sources, key=key, **(seventh_thresholds or {}))
    return out
