"""First MIR pass: tempo, beats and key from mono audio. Deeper MIR (downbeats, chords, sections) builds on this."""

from __future__ import annotations

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_NATURALS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch_class(name: str) -> int:
    """'Db' -> 1, 'C#' -> 1, 'Cb' -> 11: any spelling of a note name."""
    return (_NATURALS[name[0].upper()] + name.count("#") - name.count("b")) % 12

# Key profiles (tonic first). Temperley 1999 (Kostka-Payne) and Krumhansl-Kessler 1982.
KEY_PROFILES = {
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
}


# Pulse clarity under which an onset envelope shows no beat (drum-less chorales measured 0.00–0.05, BENCHMARKS.md)
NO_PULSE_CLARITY = 0.1


def _fit_tempo_from_beats(beat_times_sec: np.ndarray) -> float | None:
    """Tempo from the slope of beat time vs beat index.

    Beat times sit on a frame grid (~23 ms), so one inter-beat interval is coarse; a line through all
    beats averages that out. Beat indices are re-counted from the median period, so a skipped or
    doubled beat doesn't bend the line.
    """
    if len(beat_times_sec) < 4:
        return None
    ibis_sec = np.diff(beat_times_sec)
    median_sec = float(np.median(ibis_sec))
    if median_sec <= 0:
        return None
    # Mean of the typical intervals: the median alone sits on one frame step and drifts over many beats.
    period_sec = float(ibis_sec[np.abs(ibis_sec - median_sec) < 0.25 * median_sec].mean())
    index = np.round((beat_times_sec - beat_times_sec[0]) / period_sec)
    slope_sec, _ = np.polyfit(index, beat_times_sec, 1)
    return 60.0 / slope_sec if slope_sec > 0 else None


def tempo_and_beats(
    y: np.ndarray, sr_hz: int, hop_length: int = 512, tempo_min_bpm: float = 60, tempo_max_bpm: float = 200,
    onset_env: np.ndarray | None = None, low_env: np.ndarray | None = None, high_env: np.ndarray | None = None,
    tempo_peak_min_share: float = 0.5, no_pulse_comb: bool = True,
) -> dict:
    """Global tempo (BPM), beat times (s) and onset times (s) of mono audio ``y`` (shape (n,)), via
    librosa's dynamic-programming tracker. ``onset_env``: librosa onset strength, if already computed;
    ``low_env``: the low band's (kick, bass) onset strength at the same hop, which puts a grid that
    locked onto the off-beats back on the beat; ``high_env``: the band above 4 kHz (snare, hats), which
    lets ``beat_refine.metric_level`` double or halve a grid read at the wrong level; ``tempo_peak_min_share``:
    how strong a periodicity librosa's prior-weighted tempo must have to be kept (``beat_refine.periodic_tempo_bpm``);
    ``no_pulse_comb``: where the envelope shows no pulse at the tempo found (pulse clarity under ``NO_PULSE_CLARITY``:
    slow-attack strings and choir), track again at ``beat_refine.comb_tempo_bpm``'s tempo.
    Beats are then moved onto the attacks (``beat_refine``)."""
    import librosa

    from mirray.udfs import beat_refine

    if onset_env is None:
        onset_env = librosa.onset.onset_strength(y=y, sr=sr_hz, hop_length=hop_length)
    if not np.any(onset_env > 0):
        return {"tempo_bpm": None, "tempo_confidence": None, "pulse_clarity": None, "beat_times_sec": [], "onset_times_sec": []}
    frame_rate_hz = sr_hz / hop_length
    # delta 0.2 (librosa: 0.07) drops the weak echo onsets a decaying kick leaves ~0.1 s after itself
    onset_times = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr_hz, hop_length=hop_length, units="time", delta=0.2)
    tempo_coarse = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset_env, sr=sr_hz, hop_length=hop_length))[0])
    if tempo_coarse <= 0:
        return {"tempo_bpm": None, "tempo_confidence": None, "pulse_clarity": None, "beat_times_sec": [],
                "onset_times_sec": np.round(onset_times, 4).tolist()}
    tempo_coarse = beat_refine.periodic_tempo_bpm(onset_env, frame_rate_hz, tempo_coarse, min_share=tempo_peak_min_share,
                                                  octave_min_share=0.25)
    tempo_fine = beat_refine.refine_tempo_bpm(onset_env, frame_rate_hz, tempo_coarse)
    beat_times_sec, lag_sec = _track(y, sr_hz, hop_length, onset_env, low_env, high_env, tempo_fine, tempo_min_bpm, tempo_max_bpm)
    fields = beat_fields(beat_times_sec, onset_env, frame_rate_hz, tempo_min_bpm, tempo_max_bpm, tempo_fine)
    if no_pulse_comb and fields["tempo_bpm"] and (fields["pulse_clarity"] or 0.0) < NO_PULSE_CLARITY:
        tempo_comb = beat_refine.comb_tempo_bpm(onset_env, frame_rate_hz, max_bpm=tempo_max_bpm)
        if tempo_comb and abs(tempo_comb / fields["tempo_bpm"] - 1.0) > 0.04:
            tempo_fine = beat_refine.refine_tempo_bpm(onset_env, frame_rate_hz, tempo_comb)
            # no metric-level check: its drum bands say nothing here, and the comb already weighed the levels
            beat_times_sec, lag_sec = _track(y, sr_hz, hop_length, onset_env, low_env, None, tempo_fine, tempo_min_bpm, tempo_max_bpm)
            fields = beat_fields(beat_times_sec, onset_env, frame_rate_hz, tempo_min_bpm, tempo_max_bpm, tempo_fine)
    return {**fields, "onset_times_sec": np.round(np.maximum(np.asarray(onset_times) + lag_sec, 0.0), 4).tolist()}


def _track(y: np.ndarray, sr_hz: int, hop_length: int, onset_env: np.ndarray, low_env: np.ndarray | None,
           high_env: np.ndarray | None, tempo_bpm: float, tempo_min_bpm: float, tempo_max_bpm: float) -> tuple[np.ndarray, float]:
    """librosa's tracker held near ``tempo_bpm``, then ``beat_refine``'s and ``beat_grid``'s corrections: the beat times (s)
    and the onset lag (s) they were shifted by."""
    import librosa

    from mirray.udfs import beat_grid, beat_refine

    frame_rate_hz = sr_hz / hop_length
    # untrimmed: librosa's own trim drops every weak beat at the ends, i.e. whole drum-less intros and outros
    _, beat_times_sec = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr_hz, hop_length=hop_length, units="time",
                                                bpm=tempo_bpm, trim=False)
    beat_times_sec = beat_refine.trim_silent_ends(np.asarray(beat_times_sec, dtype=np.float64), onset_env, frame_rate_hz)
    if low_env is not None:
        beat_times_sec = beat_refine.off_beat_fix(beat_times_sec, low_env, frame_rate_hz)
    beat_times_sec = beat_refine.swung_off_beat_fix(beat_times_sec, onset_env, frame_rate_hz)
    beat_times_sec = beat_grid.grid_repair(beat_times_sec, 60.0 / tempo_bpm)
    beat_times_sec = beat_grid.drift_repair(beat_times_sec, low_env, frame_rate_hz)  # the same, for songs whose tempo wanders
    # beats and onsets come from the same coarse envelope, so they share its lag
    lag_sec = beat_refine.onset_lag_sec(y, sr_hz, beat_times_sec) if len(beat_times_sec) else 0.0
    beat_times_sec = np.maximum(beat_times_sec + lag_sec, 0.0)
    if high_env is not None:
        leveled = beat_refine.metric_level(beat_times_sec, onset_env, high_env, frame_rate_hz, tempo_min_bpm, tempo_max_bpm, low_env)
        if len(leveled) > len(beat_times_sec):  # doubled: the new beats may be the (swung) off-beats
            if low_env is not None:
                leveled = beat_refine.off_beat_fix(leveled, low_env, frame_rate_hz)
            leveled = beat_refine.swung_off_beat_fix(leveled, onset_env, frame_rate_hz)
        beat_times_sec = leveled
    return beat_times_sec, lag_sec


def beat_fields(beat_times_sec: np.ndarray, onset_env: np.ndarray, frame_rate_hz: float, tempo_min_bpm: float,
                tempo_max_bpm: float, fallback_bpm: float | None = None) -> dict:
    """tempo_bpm (a line through the beats, else ``fallback_bpm`` folded by octaves into the range), tempo_confidence,
    pulse_clarity and beat_times_sec of a beat grid: for a grid that a later check moves to another metric level too.
    A fitted tempo is not folded: it must describe the beats reported (a 6/8 song's dotted quarter at 52 BPM)."""
    beat_times_sec = np.asarray(beat_times_sec, dtype=np.float64)
    tempo_bpm = _fit_tempo_from_beats(beat_times_sec)
    if tempo_bpm is None and fallback_bpm:
        tempo_bpm = fallback_bpm
        while tempo_bpm < tempo_min_bpm:
            tempo_bpm *= 2
        while tempo_bpm > tempo_max_bpm:
            tempo_bpm /= 2
    clarity = pulse_clarity(onset_env, frame_rate_hz, tempo_bpm)
    return {"tempo_bpm": tempo_bpm, "tempo_confidence": tempo_confidence(_beat_regularity(beat_times_sec, tempo_bpm), clarity),
            "pulse_clarity": clarity, "beat_times_sec": beat_times_sec.round(4).tolist()}


def pulse_clarity(onset_env: np.ndarray, frame_rate_hz: float, tempo_bpm: float | None) -> float | None:
    """Autocorrelation of the onset envelope at the beat period, as a share of its energy (the
    autocorrelation flavour of Lartillot et al.'s pulse clarity, ISMIR 2008): near 1 when onsets repeat
    every beat, near 0 when nothing in this envelope does (slow-attack strings or choir whose chords change once
    a bar: the tracker then follows its tempo prior; a phase-aware tracker may still find a faint beat there,
    BENCHMARKS.md). The best value within ±2 frames of the period."""
    import librosa

    if not tempo_bpm:
        return None
    lag = int(round(60.0 / tempo_bpm * frame_rate_hz))
    x = onset_env - onset_env.mean()
    if lag < 3 or len(x) <= lag + 2 or not np.any(x):
        return None
    ac = librosa.autocorrelate(x, max_size=lag + 3)
    return float(ac[lag - 2:lag + 3].max() / ac[0])


def tempo_confidence(regularity: float | None, clarity: float | None, no_pulse: float = NO_PULSE_CLARITY, clear_pulse: float = 0.4) -> float | None:
    """Beat steadiness (``_beat_regularity``) × a ramp of pulse clarity from 0 at ``no_pulse`` to 1 at
    ``clear_pulse``: drum-less chorales whose mel-flux envelope shows no beat measured 0.00–0.05 and every other
    generated song 0.50 or more (BENCHMARKS.md). Neither term sees octave (half/double tempo) errors."""
    if regularity is None or clarity is None:
        return regularity
    return float(regularity * np.clip((clarity - no_pulse) / (clear_pulse - no_pulse), 0.0, 1.0))


def _beat_regularity(beat_times_sec: np.ndarray, tempo_bpm: float | None) -> float | None:
    """Share of inter-beat intervals within 5 % of the tempo's period: 1.0 for a steady pulse, low when
    the tracker wandered (rubato, no clear beat). Says nothing about octave (half/double) errors."""
    if not tempo_bpm or len(beat_times_sec) < 4:
        return None
    period = 60.0 / tempo_bpm
    ibis = np.diff(beat_times_sec)
    return float(np.mean(np.abs(ibis - period) <= 0.05 * period))


# Triads that belong to a key: semitones above the tonic -> qualities. Minor mixes natural and harmonic (V).
DIATONIC = {
    "major": {0: ("maj",), 2: ("min",), 4: ("min",), 5: ("maj",), 7: ("maj",), 9: ("min",)},
    "minor": {0: ("min",), 3: ("maj",), 5: ("min",), 7: ("min", "maj"), 8: ("maj",), 10: ("maj",)},
}
_TRIAD_OF = {"maj": "maj", "7": "maj", "maj7": "maj", "min": "min", "min7": "min"}


def parse_label(label: str) -> tuple[str, str, str | None]:
    """Harte label → (root, quality, bass degree or None): "C:maj7/3" → ("C", "maj7", "3"). Not for "N"."""
    root, rest = label.split(":")
    quality, _, bass = rest.partition("/")
    return root, quality, bass or None


def diatonic_share(chords: list[dict], tonic: int, mode: str) -> float:
    """Share of the (non-"N") chord time whose triad belongs to the key. Sevenths are reduced to their
    triads: a spurious seventh (I heard as I7 = V7 of the subdominant) must not move the key."""
    return float(diatonic_shares(chords)[tonic + (12 if mode == "minor" else 0)])


def is_tonic_triad(label: str, tonic: int, mode: str) -> bool:
    """Whether a (non-"N") chord label is the key's tonic triad (I in major, i in minor), seventh or not."""
    root, quality, _ = parse_label(label)
    return pitch_class(root) == tonic and _TRIAD_OF.get(quality) == ("maj" if mode == "major" else "min")


def tonic_at_starts(chords: list[dict], starts_sec: list[float], tonic: int, mode: str) -> float:
    """Share of the section starts whose chord is the key's tonic triad (I in major, i in minor)."""
    return float(_phrase_start_shares(chords, starts_sec)[tonic + (12 if mode == "minor" else 0)])


def tonic_at_ends(chords: list[dict], starts_sec: list[float], tonic: int, mode: str) -> float:
    """Share of the phrase ends whose last chord is the key's tonic triad: the chord sounding up to each section
    start that has chords before it, and the song's last chord (phrases close on the tonic more than on any other chord)."""
    return float(_phrase_end_shares(chords, starts_sec)[tonic + (12 if mode == "minor" else 0)])


def _tonic_shares(labels: list[str]) -> np.ndarray:
    """For the 24 keys (majors then minors by tonic), the share of these (non-"N") labels that are the key's tonic
    triad, seventh or not: each label is the tonic triad of at most one key; zeros without labels."""
    shares = np.zeros(24)
    for label in labels:
        root, quality, _ = parse_label(label)
        triad = _TRIAD_OF.get(quality)
        if triad:
            shares[pitch_class(root) + (12 if triad == "min" else 0)] += 1
    return shares / len(labels) if labels else shares


def _phrase_start_shares(chords: list[dict], starts_sec: list[float]) -> np.ndarray:
    """``tonic_at_starts`` for the 24 keys; starts without a chord (or on "N") do not count."""
    labels = [next((c["label"] for c in chords if c["start_sec"] <= t + 0.05 < c["end_sec"]), "N") for t in starts_sec]
    return _tonic_shares([lab for lab in labels if lab != "N"])


def _phrase_end_shares(chords: list[dict], starts_sec: list[float]) -> np.ndarray:
    """``tonic_at_ends`` for the 24 keys; zeros without played chords."""
    played = [c for c in chords if c["label"] != "N"]
    if not played:
        return np.zeros(24)
    ends = [next(c["label"] for c in reversed(played) if c["start_sec"] < t - 0.05)
            for t in starts_sec if t - 0.05 > played[0]["start_sec"]]
    return _tonic_shares([*ends, played[-1]["label"]])


def ends_on_cadence(chords: list[dict], tonic: int, mode: str, min_hold: float = 3.0) -> bool:
    """Whether the chords end on a final cadence in the key: V (major, with or without its seventh) → the
    key's tonic triad (in minor a major tonic counts too: a Picardy third), that tonic held at least
    ``min_hold`` × the song's median chord length (a fermata, a ring-out). A loop that merely stops after
    V7 → I of a neighbouring key (i–iv7–VII7–IIImaj7 ends on V7 → I of the relative major) holds its last
    chord about as long as any other: measured, final chord over median chord 1.4–2.8× on the GM pop
    corpus (10th–90th percentile), 3.8–9.6× on rendered Bach chorales."""
    played = [c for c in chords if c["label"] != "N"]
    if len(played) < 2:
        return False
    lengths = [c["end_sec"] - c["start_sec"] for c in played]
    if lengths[-1] < min_hold * float(np.median(lengths)):
        return False
    (v_root, v_quality, _), (i_root, i_quality, _) = (parse_label(c["label"]) for c in played[-2:])
    return (pitch_class(v_root) == (tonic + 7) % 12 and _TRIAD_OF.get(v_quality) == "maj" and pitch_class(i_root) == tonic
            and _TRIAD_OF.get(i_quality) in (("maj",) if mode == "major" else ("min", "maj")))


def opens_on_tonic(chords: list[dict], tonic: int, mode: str, min_share: float = 0.5) -> bool:
    """Whether the first chord played is the key's tonic triad. A leading chord shorter than ``min_share`` × the median
    played chord is passed over: the span before the first tracked beat holds the long bass filters' smear of the first
    notes (0.1–0.4 s read as some other chord in 7 of the 64 songs of GM seeds 109 and 113; three held-out songs on
    seeds 89, 109 and 113 lost their key to such a fragment, BENCHMARKS.md session 33)."""
    played = [c for c in chords if c["label"] != "N"]
    if not played:
        return False
    shortest = min_share * float(np.median([c["end_sec"] - c["start_sec"] for c in played]))
    first = next((c for c in played if c["end_sec"] - c["start_sec"] >= shortest), played[0])
    return is_tonic_triad(first["label"], tonic, mode)


def key_from_chroma(chroma_mean: np.ndarray, profile: str = "krumhansl", chords: list[dict] | None = None,
                    chord_weight: float = 0.5, phrase_starts_sec: list[float] | None = None,
                    phrase_start_weight: float = 0.1, end_cadence_weight: float = 0.0, first_chord_weight: float = 0.0,
                    confidence_sharpness: float = 15.0, cadence_chords: list[dict] | None = None,
                    phrase_end_weight: float = 0.0, note_chroma: np.ndarray | None = None, note_weight: float = 0.0) -> dict:
    """Best of 24 keys by Pearson correlation of a 12-bin chroma vector (C first) with rotated key profiles.

    ``key_confidence`` is the probability of the named key among the 24: a softmax of the key scores with
    ``confidence_sharpness`` (15, fitted by log loss on the Bach chorale benchmark with the default weights;
    on the GM and synth corpora it stays calibrated to within 0.06 expected calibration error).
    With ``chords``, each key's score adds ``chord_weight`` × the share of chord time diatonic to it:
    pitch-class counts alone confuse a key with its dominant when sevenths (ii7–V7–Imaj7) pile up
    the dominant's notes, while the chords' functions do not. With ``phrase_starts_sec`` too (see
    ``sections.phrase_starts_sec``), it adds ``phrase_start_weight`` × the share of phrases that start on
    the key's tonic chord: a key and its relative minor (or a mixolydian I–bVII–IV song and the key a
    fourth up) share their notes, and an i–VI–III–VII loop can even weigh the relative major's notes
    more, but phrases begin on the tonic. With ``end_cadence_weight``, a key whose V → I the chords end on,
    the I held (``ends_on_cadence``), gains that much: whole-piece pitch counts lean to the dominant key
    in music that modulates there and back (Bach chorales), while the final cadence names the home key.
    With ``first_chord_weight``, the leading key's relative major/minor gains that much when its tonic
    triad opens the song: section starts found a bar early or late land on any chord of a
    one-chord-per-bar loop, the song's first chord does not move (GM generator: the first chord is the
    tonic in 22–25 of 32 songs per seed, the relative key's tonic in 0–2; weights compared in
    BENCHMARKS.md). Only between relatives, which share every note and where the other cues tie: a
    ii7–V7–Imaj7 loop opens on ii7, and that must not pull B-flat major to C minor.
    ``cadence_chords``: read the final cadence from these instead of ``chords`` (its hold test is relative to
    the median chord, measured on first-pass chords). With ``phrase_end_weight``, a key gains that much × the
    share of phrase ends on its tonic triad (``tonic_at_ends``): an i–iv7–VII7–IIImaj7 verse opens on i and
    closes on the relative major's I, a VI–III–VII–i chorus the other way round; both ends count.
    With ``note_chroma`` (``chords.song_note_chroma``: the notes the chord stage's NNLS solve found), the profile
    correlation is (1 − ``note_weight``) × the folded chroma's + ``note_weight`` × the notes': folded CQT bins
    count every partial of every note as a pitch class of its own (a square-wave lead's 7th partial of B♭ is an A♭,
    its 3rd an F), which pulls a B♭-major song's profile towards G minor; the notes do not.
    """
    total = key_scores(chroma_mean, profile, chords, chord_weight, phrase_starts_sec, phrase_start_weight,
                       end_cadence_weight, first_chord_weight, cadence_chords, phrase_end_weight, note_chroma, note_weight)
    if total is None:
        return {"key": None, "key_tonic": None, "key_mode": None, "key_confidence": None}
    best = int(np.argmax(total))
    tonic, mode = best % 12, ("major", "minor")[best // 12]
    weights = np.exp(confidence_sharpness * (total - total[best]))
    return {
        "key": f"{PITCH_CLASSES[tonic]} {mode}",
        "key_tonic": PITCH_CLASSES[tonic],
        "key_mode": mode,
        "key_confidence": float(1.0 / weights.sum()),
    }


def key_scores(chroma_mean: np.ndarray, profile: str = "krumhansl", chords: list[dict] | None = None,
               chord_weight: float = 0.5, phrase_starts_sec: list[float] | None = None, phrase_start_weight: float = 0.1,
               end_cadence_weight: float = 0.0, first_chord_weight: float = 0.0,
               cadence_chords: list[dict] | None = None, phrase_end_weight: float = 0.0,
               note_chroma: np.ndarray | None = None, note_weight: float = 0.0) -> np.ndarray | None:
    """The 24 keys' scores (C major … B major, C minor … B minor) that ``key_from_chroma`` picks from; None
    for a chroma without variation (silence)."""
    correlation, bonus = _key_scores(np.asarray(chroma_mean, dtype=np.float64), profile, chords, chord_weight)
    if correlation is None:
        return None
    if note_chroma is not None and note_weight:
        notes_correlation, _ = _key_scores(np.asarray(note_chroma, dtype=np.float64), profile, None, 0.0)
        if notes_correlation is not None:  # None: no notes found (silence)
            correlation = (1.0 - note_weight) * correlation + note_weight * notes_correlation
    if chords and phrase_starts_sec and phrase_start_weight:
        bonus = bonus + phrase_start_weight * _phrase_start_shares(chords, phrase_starts_sec)
    if chords and first_chord_weight:  # only between the leading key and its relative, which share every note
        lead = int(np.argmax(correlation + bonus))
        relative = 12 + (lead + 9) % 12 if lead < 12 else (lead - 12 + 3) % 12
        if opens_on_tonic(chords, relative % 12, ("major", "minor")[relative // 12]):
            bonus = bonus.copy()
            bonus[relative] += first_chord_weight
    if chords and end_cadence_weight:
        ending = cadence_chords or chords
        bonus = bonus + end_cadence_weight * np.array([ends_on_cadence(ending, k % 12, ("major", "minor")[k // 12]) for k in range(24)])
    if chords and phrase_starts_sec and phrase_end_weight:
        bonus = bonus + phrase_end_weight * _phrase_end_shares(chords, phrase_starts_sec)
    return correlation + bonus


CQT_BINS_PER_OCTAVE, CQT_OCTAVES = 36, 7  # librosa's chroma_cqt defaults: C1-B7, 3 bins per semitone


def chroma_features(y: np.ndarray, sr_hz: int, hop_length: int = 512, tuning_excerpt_sec: float = 30.0,
                    with_cqt: bool = False) -> tuple:
    """Tuning-corrected CQT chroma, shape (12, n_frames), and the tuning offset in cents (None for silence);
    with ``with_cqt`` also the CQT magnitude it came from (C1–B7, CQT_BINS_PER_OCTAVE), from which
    ``chords.bass_chroma`` and ``chords.treble_chroma`` fold their registers without another transform.

    Tuning is estimated on the middle ``tuning_excerpt_sec`` only: a recording keeps its tuning, and
    the estimate costs more than the chroma itself on a whole song.
    """
    import librosa

    n_bins = CQT_BINS_PER_OCTAVE * CQT_OCTAVES
    if not np.any(y):
        n_frames = 1 + len(y) // hop_length
        return (np.zeros((12, n_frames)), None) + ((np.zeros((n_bins, n_frames)),) if with_cqt else ())
    n = int(tuning_excerpt_sec * sr_hz)
    mid = y[max(0, (len(y) - n) // 2): max(0, (len(y) - n) // 2) + n]
    tuning_bins = float(librosa.estimate_tuning(y=mid if np.any(mid) else y, sr=sr_hz, bins_per_octave=12))
    cqt = np.abs(librosa.cqt(y, sr=sr_hz, hop_length=hop_length, fmin=librosa.note_to_hz("C1"), n_bins=n_bins,
                             bins_per_octave=CQT_BINS_PER_OCTAVE, tuning=tuning_bins))
    return (chroma_from_cqt(cqt), round(tuning_bins * 100.0, 2)) + ((cqt,) if with_cqt else ())


def variable_q_bass(y: np.ndarray, sr_hz: int, hop_length: int, cqt: np.ndarray, tuning_cents: float | None, gamma_hz: float,
                    octaves: int = 3) -> np.ndarray:
    """``cqt`` (from ``chroma_features``) with its lowest ``octaves`` (C1–B3) recomputed by a variable-Q
    transform whose bandwidths are widened by ``gamma_hz`` (librosa.vqt). The CQT's bass filters are long
    (C2: 0.79 s; 0.31 s at 2 Hz), so centred frames hear a bass note up to 0.4 s before it starts: at fast
    tempi a bar's chroma holds the next bar's bass. Above C4 the two transforms barely differ, and the low
    octaves are the cheap ones (decimated): ~0.025 core-s per audio minute."""
    import librosa

    if gamma_hz <= 0 or tuning_cents is None:  # None: silence
        return cqt
    n_bins = CQT_BINS_PER_OCTAVE * octaves
    low = np.abs(librosa.vqt(y, sr=sr_hz, hop_length=hop_length, fmin=librosa.note_to_hz("C1"), n_bins=n_bins, gamma=gamma_hz,
                             bins_per_octave=CQT_BINS_PER_OCTAVE, tuning=tuning_cents / 100.0))
    return np.concatenate([low[:, :cqt.shape[1]], cqt[n_bins:]], axis=0)


def span_medians(features: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Median of ``features`` (dims, frames) over each span [``bounds[i]``, ``bounds[i + 1]``), shape (dims, n_spans);
    ``bounds`` strictly increasing. Beat spans take few distinct lengths, so spans of one length share one
    ``np.median`` call (the same values as one call per span, at a fraction of the per-call cost)."""
    bounds = np.asarray(bounds, dtype=int)
    starts, lengths = bounds[:-1], np.diff(bounds)
    if np.any(lengths <= 0):
        raise ValueError("span bounds must be strictly increasing")
    out = np.empty((features.shape[0], len(starts)), dtype=features.dtype if features.dtype.kind == "f" else np.float64)
    for length in np.unique(lengths):
        which = np.flatnonzero(lengths == length)
        out[:, which] = np.median(features[:, starts[which, None] + np.arange(length)], axis=2)
    return out


def chroma_from_cqt(cqt: np.ndarray) -> np.ndarray:
    """12-bin chroma (each frame max-normalised) folded from a C1-based CQT magnitude at ``CQT_BINS_PER_OCTAVE``."""
    import librosa

    return librosa.feature.chroma_cqt(C=cqt, bins_per_octave=CQT_BINS_PER_OCTAVE)


def flatten_tilt(cqt: np.ndarray) -> np.ndarray:
    """The CQT magnitude (C1-based, ``CQT_BINS_PER_OCTAVE``) with the song's long-term spectral envelope
    flattened within each octave, each octave keeping its mean level.

    Folding a sloped spectrum into pitch classes gives a sawtooth: drums and other broadband sound fall
    with frequency across each octave, so their chroma peaks on C and C♯ (the bottom of every folded
    octave) whatever the key. Dividing by a one-octave running mean of the song's average log spectrum
    removes the slope and keeps the peaks notes make on top of it (Essentia's HPCP and Chordino's NNLS
    chroma whiten the spectrum for the same reason). One envelope per song, not per frame: a frame's own
    envelope would flatten a held chord's tones too (majmin fell 0.06 with that, BENCHMARKS.md).
    """
    from scipy.ndimage import uniform_filter1d

    log_mean = np.log(cqt.mean(axis=1) + 1e-9)
    envelope = np.exp(uniform_filter1d(log_mean, CQT_BINS_PER_OCTAVE, mode="nearest")).reshape(-1, CQT_BINS_PER_OCTAVE)
    weights = envelope.mean(axis=1, keepdims=True) / envelope  # per octave: its mean level over the bin's envelope
    return cqt * weights.reshape(-1, 1)


def estimate_key(y: np.ndarray, sr_hz: int, hop_length: int = 512, profile: str = "krumhansl") -> dict:
    """Global key of mono audio from tuning-corrected CQT chroma, plus the tuning offset in cents."""
    chroma, tuning_cents = chroma_features(y, sr_hz, hop_length)
    return {**key_from_chroma(chroma.mean(axis=1), profile), "tuning_cents": tuning_cents}


def _key_scores(chroma_mean: np.ndarray, profile: str, chords: list[dict] | None, chord_weight: float):
    """(correlation, chord bonus) for the 24 keys, majors then minors by tonic; (None, None) for a flat chroma.

    correlation: Pearson r with the rotated profile; bonus: chord_weight × share of chord time diatonic to the key.
    One matrix product and one table lookup for all 24 keys: key segments score ~40 windows per song.
    """
    if not np.isfinite(chroma_mean).all() or np.std(chroma_mean) == 0:
        return None, None
    centred = chroma_mean - chroma_mean.mean()
    correlation = _PROFILE_Z[profile] @ (centred / np.linalg.norm(centred))
    return correlation, (chord_weight * diatonic_shares(chords) if chords else np.zeros(24))


def _rotated_profiles_z(profile: str) -> np.ndarray:
    """(24, 12): each key's profile rotated to its tonic, centred and scaled to unit norm (a dot product is Pearson's r)."""
    rows = np.array([np.roll(np.asarray(prof, dtype=np.float64), tonic) for prof in KEY_PROFILES[profile] for tonic in range(12)])
    rows -= rows.mean(axis=1, keepdims=True)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


_PROFILE_Z = {name: _rotated_profiles_z(name) for name in KEY_PROFILES}
# _IN_KEY[k, root, triad]: whether a triad (0 maj, 1 min) on that root belongs to key k (majors then minors by tonic)
_IN_KEY = np.array([[[("maj", "min")[q] in DIATONIC[mode].get((root - tonic) % 12, ()) for q in range(2)]
                     for root in range(12)] for mode in ("major", "minor") for tonic in range(12)])


def diatonic_shares(chords: list[dict]) -> np.ndarray:
    """``diatonic_share`` for the 24 keys at once (majors then minors by tonic); zeros without played chords."""
    total, roots, triads, durations = 0.0, [], [], []
    for c in chords:
        if c["label"] == "N":
            continue
        root, quality, _ = parse_label(c["label"])
        total += c["end_sec"] - c["start_sec"]
        if quality in _TRIAD_OF:  # other qualities (dim, sus) count in the total, in no key
            roots.append(pitch_class(root))
            triads.append(("maj", "min").index(_TRIAD_OF[quality]))
            durations.append(c["end_sec"] - c["start_sec"])
    if not total:
        return np.zeros(24)
    return _IN_KEY[:, np.array(roots, dtype=int), np.array(triads, dtype=int)].astype(np.float64) @ np.array(durations) / total
