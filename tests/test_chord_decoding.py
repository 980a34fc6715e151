"""Chord decoding pieces on constructed chroma, where the right answer is known exactly."""

import librosa
import numpy as np
import pytest

from mirray.udfs import chords, mir


def test_metric_change_prob_by_place_in_the_bar():
    beats = np.arange(16) * 0.5  # 120 BPM, 4/4, downbeats every 2 s from 0.5 s (one pickup beat)
    downbeats = beats[1::4]
    p = chords.metric_change_prob(beats, beats.tolist(), downbeats.tolist(), 4, p_downbeat=0.5, p_half_bar=0.2, p_other=0.02)
    assert p[0] == 0.2  # before the first downbeat
    assert p[1] == 0.5 and p[5] == 0.5  # downbeats
    assert p[3] == 0.2 and p[7] == 0.2  # beat 3 of the bar
    assert p[2] == 0.02 and p[4] == 0.02 and p[6] == 0.02
    waltz = chords.metric_change_prob(beats, beats.tolist(), beats[::3].tolist(), 3)
    assert waltz[0] == waltz[3] == 0.5 and waltz[1] == waltz[2] == 0.005  # no half bar in 3/4 (default p_other)
    assert np.all(chords.metric_change_prob(beats, beats.tolist(), [], None) == 0.05)  # no meter: the default half-bar chance
    # spans on a half-beat grid (chorales: chords on every beat, some on the eighths): the eighths are "other"
    halves = np.sort(np.concatenate([beats, beats[:-1] + 0.25]))
    ph = chords.metric_change_prob(halves, beats.tolist(), downbeats.tolist(), 4, p_downbeat=0.5, p_half_bar=0.2, p_other=0.02)
    assert ph[2] == 0.5 and ph[6] == 0.2  # the downbeat at 0.5 s and beat 3 at 1.5 s keep their place
    assert ph[3] == 0.02 and ph[5] == 0.02  # 0.75 s and 1.25 s: between beats


def test_harmonic_rhythm_in_beats_tells_a_chorale_from_pop():
    beats = (np.arange(33) * 0.5).tolist()
    chorale = [{"start_sec": t, "end_sec": t + 0.5, "label": "C:maj"} for t in beats[:-1]]
    pop = [{"start_sec": t, "end_sec": t + 2.0, "label": "C:maj"} for t in beats[:-1:4]]
    assert chords.chord_beats(chorale, beats) == 1.0 and chords.chord_beats(pop, beats) == 4.0
    assert chords.chord_beats([], beats) == float("inf") and chords.chord_beats(pop, beats[:1]) == float("inf")
    frames = np.arange(33) * 20
    assert np.array_equal(chords.decoding_frames(frames, chords.fast_harmony(chorale, beats, 1.5)), np.arange(65) * 10)  # beats + half-beats
    assert chords.decoding_frames(frames, chords.fast_harmony(pop, beats, 1.5)) is frames


def test_time_varying_viterbi_equals_librosa_with_a_fixed_loop():
    rng = np.random.default_rng(0)
    prob = rng.random((25, 60)) ** 4
    prob /= prob.sum(axis=0)
    expected = librosa.sequence.viterbi(prob, librosa.sequence.transition_loop(25, 0.9))
    stay, switch = np.full(60, np.log(0.9)), np.full(60, np.log(0.1 / 24))
    assert np.array_equal(chords._viterbi_uniform_switch(np.log(prob), stay, switch), expected)


def _waltz_chroma(pulls: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float], list[float]]:
    """Eight 3/4 bars, one chord per bar (C F G Am ...); on beats 2 and 3 the bass sits on the fifth, which
    pulls the chroma towards the chord a fifth up by ``pulls``. One chroma frame per beat."""
    labels, templates = chords.chord_templates("majmin")
    bars = ["C:maj", "F:maj", "G:maj", "A:min"] * 2
    fifth_up = {"C:maj": "G:maj", "F:maj": "C:maj", "G:maj": "D:maj", "A:min": "E:min"}
    columns = []
    for chord in bars:
        columns.append(templates[labels.index(chord)])
        for _ in range(2):
            columns.append(templates[labels.index(chord)] + pulls * templates[labels.index(fifth_up[chord])])
    chroma = np.stack(columns, axis=1)
    beat_times = np.arange(chroma.shape[1]) * 0.5
    return chroma, beat_times, np.arange(chroma.shape[1]), beat_times.tolist(), beat_times[::3].tolist()


def test_bar_prior_keeps_one_chord_per_bar_where_the_bass_walks():
    chroma, frame_times, beat_frames, beats, downbeats = _waltz_chroma(pulls=1.35)
    meter = {"beat_times_sec": beats, "downbeat_times_sec": downbeats, "beats_per_bar": 3}
    with_meter = chords.estimate_chords(chroma, frame_times, beat_frames, 12.0, "majmin", meter=meter)
    flat = chords.estimate_chords(chroma, frame_times, beat_frames, 12.0, "majmin")
    assert [c["label"] for c in with_meter] == ["C:maj", "F:maj", "G:maj", "A:min"] * 2
    assert [c["start_sec"] for c in with_meter] == [i * 1.5 for i in range(8)]
    # the flat HMM follows the bass to the fifth: the case the bar prior is for
    assert len(flat) > len(with_meter)


def _tones(midi_notes: list[int], seconds: float, sr: int = 22050, partials: int = 8) -> np.ndarray:
    """Sawtooth-like notes (partial k at 1/k): real instruments' harmonics, which is what leaks."""
    t = np.arange(int(seconds * sr)) / sr
    out = np.zeros_like(t)
    for m in midi_notes:
        f0 = librosa.midi_to_hz(m)
        out += sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1) if k * f0 < sr / 2)
    return out / len(midi_notes)


def test_a_loud_melody_note_anticipating_the_next_chord_does_not_move_the_change():
    """C | Am | C | Am (with bass), the melody's A — the next chord's root — arriving on beat 4 of each C bar
    at about five times a chord tone's amplitude. On linear chroma that beat reads A minor strongly enough to pay
    for a change off the downbeat; log-compressed chroma weighs the accompaniment's tones against the one
    melody note and keeps the change on the downbeat."""
    sr, hop = 22050, 512
    bars = []
    for bar in range(4):
        y = _tones([36, 60, 64, 67] if bar % 2 == 0 else [33, 57, 60, 64], 2.0)
        if bar % 2 == 0:
            y[int(1.5 * sr):] += 1.2 * _tones([81], 0.5)[: len(y) - int(1.5 * sr)]
        bars.append(y)
    chroma, _ = mir.chroma_features(np.concatenate(bars), sr, hop)
    frame_times = librosa.frames_to_time(np.arange(chroma.shape[1]), sr=sr, hop_length=hop)
    beats = np.arange(16) * 0.5
    meter = {"beat_times_sec": beats.tolist(), "downbeat_times_sec": [0.0, 2.0, 4.0, 6.0], "beats_per_bar": 4}
    beat_frames = librosa.time_to_frames(beats, sr=sr, hop_length=hop)

    def decode(compression: float) -> list[dict]:
        return chords.estimate_chords(chroma, frame_times, beat_frames, 8.0, "majmin", meter=meter, compression=compression)

    compressed = decode(3.0)  # the pipeline's mir.chord_compression
    assert [c["label"] for c in compressed] == ["C:maj", "A:min"] * 2
    assert np.allclose([c["start_sec"] for c in compressed], [0.0, 2.0, 4.0, 6.0], atol=0.03)
    assert np.allclose([c["start_sec"] for c in decode(0.0)][1::2], [1.5, 5.5], atol=0.03)  # linear: a beat early


def test_upper_three_notes_of_a_seventh_chord_after_the_downbeat_join_it():
    """E♭maj7 for a bar whose bass leaves the root: the first half reads E♭ (with a soft D), the second Gm
    (with the E♭ still sounding) — one E♭maj7. C then Em with no B before and no C after is a real change;
    so is a Gm that runs on into the next bar."""
    frame_times = np.arange(400) * 0.01  # 4 s, bars at 0 and 2 s

    def chroma_of(halves: list[dict]) -> np.ndarray:
        out = np.full((12, len(frame_times)), 0.05)
        for start, end, levels in halves:
            sel = (frame_times >= start) & (frame_times < end)
            for pc, level in levels.items():
                out[pc, sel] = level
        return out

    eb, g, bb, d, c, e = 3, 7, 10, 2, 0, 4
    maj7 = chroma_of([(0.0, 1.0, {eb: 1.0, g: 1.0, bb: 1.0, d: 0.4}), (1.0, 2.0, {g: 1.0, bb: 1.0, d: 1.0, eb: 0.4}),
                      (2.0, 4.0, {c: 1.0, eb: 1.0, g: 1.0})])
    segs = [{"start_sec": 0.0, "end_sec": 1.0, "label": "Eb:maj"}, {"start_sec": 1.0, "end_sec": 2.0, "label": "G:min"},
            {"start_sec": 2.0, "end_sec": 4.0, "label": "C:min"}]
    out = chords.merge_upper_structures([dict(x) for x in segs], maj7, frame_times, [0.0, 2.0])
    assert [(x["start_sec"], x["end_sec"], x["label"]) for x in out] == [(0.0, 2.0, "Eb:maj7"), (2.0, 4.0, "C:min")]
    assert chords.merge_upper_structures([dict(x) for x in segs], maj7, frame_times, [0.0, 2.0], "majmin")[0]["label"] == "Eb:maj"
    change = chroma_of([(0.0, 1.0, {c: 1.0, e: 1.0, g: 1.0}), (1.0, 2.0, {e: 1.0, g: 1.0, 11: 1.0}), (2.0, 4.0, {c: 1.0, eb: 1.0, g: 1.0})])
    real = [{"start_sec": 0.0, "end_sec": 1.0, "label": "C:maj"}, {"start_sec": 1.0, "end_sec": 2.0, "label": "E:min"}, segs[2]]
    assert [x["label"] for x in chords.merge_upper_structures([dict(x) for x in real], change, frame_times, [0.0, 2.0])] == ["C:maj", "E:min", "C:min"]
    runs_on = [segs[0], {"start_sec": 1.0, "end_sec": 4.0, "label": "G:min"}]
    assert len(chords.merge_upper_structures([dict(x) for x in runs_on], maj7, frame_times, [0.0, 2.0])) == 2


def test_a_change_inside_the_bar_that_brings_no_new_note_goes_back():
    """A♭ for a bar whose second half sounds only its fifth (a broken chord and a walking bass on E♭): the decoder reads
    E♭ there, a triad on the loudest note; no note outside A♭ calls for it, so the bar stays A♭. A second half with
    G and B♭ beside the E♭ is a real change to E♭, and so is one that runs on into the next bar."""
    frame_times = np.arange(400) * 0.01  # 4 s, bars at 0 and 2 s
    beat_frames, beats, downbeats = np.arange(0, 400, 50), list(np.arange(8) * 0.5), [0.0, 2.0]
    ab, c, eb, g, bb = 8, 0, 3, 7, 10

    def chroma_of(second_half: dict) -> np.ndarray:
        out = np.full((12, len(frame_times)), 0.05)
        for bar in (0.0, 2.0):
            first = (frame_times >= bar) & (frame_times < bar + 1.0)
            out[ab, first], out[c, first], out[eb, first] = 1.0, 0.6, 0.5
            second = (frame_times >= bar + 1.0) & (frame_times < bar + 2.0)
            for pc, level in second_half.items():
                out[pc, second] = level
        return out

    meter = {"beat_times_sec": beats, "downbeat_times_sec": downbeats, "beats_per_bar": 4}
    fifth_only = chroma_of({eb: 1.0, bb: 0.3, g: 0.2})
    decoded = chords.estimate_chords(fifth_only, frame_times, beat_frames, 4.0, "majmin", meter=meter)
    assert [x["label"] for x in decoded] == ["Ab:maj", "Eb:maj"] * 2  # the case the pass is for
    joined = chords.estimate_chords(fifth_only, frame_times, beat_frames, 4.0, "majmin", meter=meter, inner_change_share=0.6)
    assert [(x["start_sec"], x["end_sec"], x["label"]) for x in joined] == [(0.0, 4.0, "Ab:maj")]
    real = chords.estimate_chords(chroma_of({eb: 1.0, g: 0.8, bb: 0.8}), frame_times, beat_frames, 4.0, "majmin", meter=meter,
                                  inner_change_share=0.6)
    assert [x["label"] for x in real] == ["Ab:maj", "Eb:maj"] * 2
    # not where the chords change faster (a chorale's, a beat each, voice-lead): here they last 2 beats, under 3
    chorale_like = chords.estimate_chords(fifth_only, frame_times, beat_frames, 4.0, "majmin", meter=meter, inner_change_share=0.6,
                                          inner_change_min_chord_beats=3)
    assert [x["label"] for x in chorale_like] == ["Ab:maj", "Eb:maj"] * 2
    runs_on = [{"start_sec": 0.0, "end_sec": 1.0, "label": "Ab:maj"}, {"start_sec": 1.0, "end_sec": 4.0, "label": "Eb:maj"}]
    out = chords.join_inner_changes(runs_on, fifth_only, frame_times, downbeats)
    assert [(x["start_sec"], x["end_sec"], x["label"]) for x in out] == [(0.0, 2.0, "Ab:maj"), (2.0, 4.0, "Eb:maj")]


def test_each_key_segment_is_its_own_spans_prior():
    """B and F♯ with both thirds faint: a tie the key prior settles. Against A major it is Bm (ii); where a key segment
    says B major (a last chorus a step up), the same span is B (I), and the A-major part keeps its own prior."""
    frame_times = np.arange(400) * 0.01
    beat_frames = np.arange(0, 400, 50)
    chroma = np.full((12, len(frame_times)), 0.05)
    b, fs, d, ds = 11, 6, 2, 3
    chroma[b], chroma[fs], chroma[d], chroma[ds] = 1.0, 0.8, 0.3, 0.3
    home = chords.estimate_chords(chroma, frame_times, beat_frames, 4.0, "majmin", key="A major", key_bonus=0.05)
    assert [x["label"] for x in home] == ["B:min"]
    segments = [{"start_sec": 0.0, "end_sec": 2.0, "key": "A major"}, {"start_sec": 2.0, "end_sec": 4.0, "key": "B major"}]
    moved = chords.estimate_chords(chroma, frame_times, beat_frames, 4.0, "majmin", key="A major", key_bonus=0.05, key_segments=segments,
                                   self_transition=0.5)
    assert [(x["start_sec"], x["label"]) for x in moved] == [(0.0, "B:min"), (2.0, "B:maj")]


def test_dominant_seventh_bar_is_lower_than_the_minor_sevenths():
    """A minor third's 3rd partial is the chord's b7, so a plain harmonic-rich C minor triad shows b7
    evidence (~0.13) and must stay a triad; nothing in a major triad's partials lands on its b7, so a soft
    Bb over C major (evidence ~0.12, under the minor bar) already makes it C7."""
    sr, hop = 22050, 2048
    seg = [{"start_sec": 0.0, "end_sec": 4.0}]
    cases = ((_tones([60, 63, 67], 4.0), "C:min", "C:min"),
             (_tones([60, 64, 67], 4.0), "C:maj", "C:maj"),
             (_tones([60, 64, 67], 4.0) + 0.05 * _tones([70], 4.0), "C:maj", "C:7"))
    for y, triad, expected in cases:
        _, _, cqt = mir.chroma_features(y, sr, hop, with_cqt=True)
        treble = chords.treble_chroma(cqt)
        times = librosa.frames_to_time(np.arange(treble.shape[1]), sr=sr, hop_length=hop)
        assert chords.add_sevenths([{**seg[0], "label": triad}], treble, times)[0]["label"] == expected, (triad, expected)


def test_sevenths_read_from_the_treble_register():
    """Harmonic-rich tones over a bass as loud as the whole chord: a C major triad stays a triad, with a B
    on top it is Cmaj7, with a Bb C7. Over the full range the bass's C swamps the seventh."""
    sr, hop = 22050, 2048
    bass = _tones([36], 4.0)  # C2
    for upper, expected in (([60, 64, 67], "C:maj"), ([60, 64, 67, 71], "C:maj7"), ([60, 64, 67, 70], "C:7")):
        y = bass + _tones(upper, 4.0)
        full, _, cqt = mir.chroma_features(y, sr, hop, with_cqt=True)
        treble = chords.treble_chroma(cqt)
        times = librosa.frames_to_time(np.arange(treble.shape[1]), sr=sr, hop_length=hop)
        seg = [{"start_sec": 0.0, "end_sec": 4.0, "label": "C:maj"}]
        assert chords.add_sevenths([dict(s) for s in seg], treble, times)[0]["label"] == expected
        if expected != "C:maj":
            seventh = "maj7" if expected == "C:maj7" else "b7"
            on = {name: chords.seventh_evidence(np.median(c, axis=1), 0, False)[seventh] for name, c in (("treble", treble), ("full", full))}
            assert on["treble"] > 1.5 * on["full"], on


def test_maj7_over_its_third_in_the_bass_is_the_triad():
    """The bass E's 3rd partial is a B: Cmaj7 over E reads as C/E; over C it stays Cmaj7; G7 over F is V42."""
    times = np.arange(0, 4.0, 0.1)
    beats = [0.0, 1.0, 2.0, 3.0]

    def bass_on(pc: int) -> np.ndarray:
        b = np.full((12, len(times)), 0.1)
        b[pc] = 5.0
        return b

    def label(lab: str, pc: int) -> str:
        return chords.add_inversions([{"start_sec": 0.0, "end_sec": 4.0, "label": lab}], bass_on(pc), times, beats)[0]["label"]

    assert label("C:maj7", 4) == "C:maj/3"
    assert label("C:maj7", 0) == "C:maj7"
    assert label("G:7", 5) == "G:7/b7"


def test_a_seventh_heard_on_one_beat_is_a_passing_tone_one_heard_throughout_is_the_chords():
    frame_times = np.arange(0, 2.0, 0.01)  # one 4-beat chord of C major, beats every 0.5 s
    beats = np.array([0.5, 1.0, 1.5])
    chroma = np.full((12, len(frame_times)), 0.05)
    chroma[[0, 4, 7]] = 1.0
    passing = chroma.copy()
    passing[11, (frame_times >= 1.0) & (frame_times < 1.5)] = 1.0  # B on the third beat only (a melody's passing tone)
    held = chroma.copy()
    held[11] = 0.6  # B throughout (the accompaniment's maj7)
    seg = [{"start_sec": 0.0, "end_sec": 2.0, "label": "C:maj"}]
    assert chords.add_sevenths([dict(s) for s in seg], held, frame_times, beat_times_sec=beats)[0]["label"] == "C:maj7"
    assert chords.add_sevenths([dict(s) for s in seg], passing, frame_times, beat_times_sec=beats)[0]["label"] == "C:maj"
    # half the chord (two of four beats): the whole-chord median reads it as a seventh, the beat quantile does not
    half = chroma.copy()
    half[11, frame_times >= 1.0] = 1.0
    assert chords.add_sevenths([dict(s) for s in seg], half, frame_times)[0]["label"] == "C:maj7"
    assert chords.add_sevenths([dict(s) for s in seg], half, frame_times, beat_times_sec=beats)[0]["label"] == "C:maj"


def _walking_bass_bars(root: int, upper: list[int], root_level: float):
    """Two 4/4 bars at 120 BPM (20 frames a second) of a seventh chord comped with its root at ``root_level`` and its
    upper three notes at 1, over a walking bass root–upper[0]–upper[1]–upper[2]: chroma, bass chroma, frame times,
    beat frames, meter."""
    beat_sec, n_beats = 0.5, 8
    frame_times = np.arange(0, n_beats * beat_sec, 0.05)
    beat_frames = np.arange(0, len(frame_times), 10)
    chroma = np.full((12, len(frame_times)), 0.05)
    chroma[upper] = 1.0
    chroma[root] = root_level
    bass = np.full((12, len(frame_times)), 0.1)
    for b, pc in enumerate([root, *upper] * 2):
        span = slice(b * 10, (b + 1) * 10)
        chroma[pc, span] += 0.5
        bass[pc, span] = 5.0
    meter = {"beat_times_sec": list(np.arange(n_beats) * beat_sec), "downbeat_times_sec": [0.0, 2.0], "beats_per_bar": 4}
    return chroma, bass, frame_times, beat_frames, meter


def test_the_downbeat_bass_names_the_bar_when_a_walking_bass_outvotes_the_root():
    """Two bars of F♯m7 (F♯ A C♯ E) with the root softer in the chords and a walking bass F♯ A C♯ E: summed
    over the bar the upper three notes (A major) win; the downbeat's bass note, weighed over its bar, names F♯."""
    chroma, bass, frame_times, beat_frames, meter = _walking_bass_bars(6, [9, 1, 4], 0.6)  # F♯ under A, C♯, E
    args = (chroma, frame_times, beat_frames, 4.0, "majmin")
    assert [c["label"] for c in chords.estimate_chords(*args, meter=meter)] == ["A:maj"]
    assert [c["label"] for c in chords.estimate_chords(*args, meter=meter, bass=bass, downbeat_bass_weight=0.1)] == ["F#:min"]
    # an inverted chord keeps its name: G/B's bass B is a chord tone of G major as much as of B minor or E minor
    g6 = np.full((12, len(frame_times)), 0.05)
    g6[[7, 11, 2]] = 1.0  # G, B, D
    b_bass = np.full((12, len(frame_times)), 0.1)
    b_bass[11] = 5.0
    assert [c["label"] for c in chords.estimate_chords(g6, *args[1:], meter=meter, bass=b_bass, downbeat_bass_weight=0.1)] == ["G:maj"]
    # the rule itself: bass B credits every chord that holds B alike (G major's 3rd, B minor's root, E minor's 5th), A major none
    labels, _ = chords.chord_templates("majmin")
    credit = chords.downbeat_bass_in_chord(b_bass, beat_frames, np.asarray(meter["beat_times_sec"]), meter["downbeat_times_sec"], labels)
    first_bar = credit[:, 0]
    assert first_bar[labels.index("G:maj")] == first_bar[labels.index("B:min")] == first_bar[labels.index("E:min")] == 1.0
    assert first_bar[labels.index("A:maj")] == 0.0 and np.all(credit[:, :4] == credit[:, [0]])  # the whole bar


def test_a_bars_triad_over_a_bass_a_third_below_is_that_bass_notes_seventh_chord():
    """F♯maj7 (F♯ A♯ C♯ F) comped with its root soft over a walking bass F♯ A♯ C♯ F: the bar reads B♭ minor
    (its upper three notes) even with the downbeat-bass weight; the bass a major third under B♭ names F♯maj7."""
    chroma, bass, frame_times, beat_frames, meter = _walking_bass_bars(6, [10, 1, 5], 0.4)  # F♯ under A♯, C♯, F
    args = (chroma, frame_times, beat_frames, 4.0)
    kw = {"meter": meter, "bass": bass, "downbeat_bass_weight": 0.1}
    assert [c["label"] for c in chords.estimate_chords(*args, "majmin", **kw)] == ["Bb:min"]
    assert [c["label"] for c in chords.estimate_chords(*args, "majmin", reroot=True, **kw)] == ["F#:maj"]
    assert [c["label"] for c in chords.estimate_chords(*args, "sevenths", reroot=True, **kw)] == ["F#:maj7"]
    # the rule alone: D♭ major over B♭ is B♭m7; over G (not a third below) or over its own third F (an inversion) it stays
    seg = lambda: [{"start_sec": 0.0, "end_sec": 4.0, "label": "C#:maj"}]  # noqa: E731
    for bass_pc, expected in ((10, "Bb:min7"), (7, "C#:maj"), (5, "C#:maj")):
        low = np.full((12, len(frame_times)), 0.1)
        low[bass_pc] = 5.0
        assert chords.reroot_over_bass(seg(), low, frame_times, meter["beat_times_sec"], [0.0, 2.0])[0]["label"] == expected
    # a bass too faint to be a note (leakage under a bass-less intro) renames nothing
    faint = np.full((12, len(frame_times)), 0.1)
    faint[10] = 0.2
    assert chords.reroot_over_bass(seg(), faint, frame_times, meter["beat_times_sec"], [0.0, 2.0])[0]["label"] == "C#:maj"


def test_a_kick_on_the_downbeat_does_not_hide_the_bass_note_at_the_25th_percentile():
    """The first beat's frames of a B♭ bass under D♭ major: a kick fills every low pitch class in three of five frames
    (a short beat, the kick's decay). Their median is the kick, no note; the 25th percentile is the held B♭."""
    frame_times = np.arange(0.0, 4.0, 0.1)
    beats = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    bass = np.full((12, len(frame_times)), 0.05)
    bass[10] = 1.0
    for beat in beats:  # the kick: loud everywhere in the first 0.3 s of every beat
        bass[:, (frame_times >= beat - 1e-9) & (frame_times < beat + 0.25)] = 1.0
    seg = lambda: [{"start_sec": 0.0, "end_sec": 4.0, "label": "C#:maj"}]  # noqa: E731
    assert np.ptp(chords.bass_level(bass[:, :5], 50.0)) == 0.0  # every pitch class alike: no note
    assert int(np.argmax(chords.bass_level(bass[:, :5], 25.0))) == 10
    assert chords.reroot_over_bass(seg(), bass, frame_times, beats, [0.0, 2.0])[0]["label"] == "C#:maj"
    assert chords.reroot_over_bass(seg(), bass, frame_times, beats, [0.0, 2.0], bass_quantile=25.0)[0]["label"] == "Bb:min7"


def test_centre_bins_keep_a_tempered_seventh_and_drop_a_natural_one():
    """A C major triad's tempered B♭ keeps its level in the centre bins; a B♭ 31 cents flat (where the 7th
    partial of a C falls) loses about a quarter of it there, against the 3-bin treble chroma."""
    from mirray.udfs import chords as ch
    from mirray.udfs import mir

    sr = 22050
    t = np.arange(3 * sr) / sr

    def tone(midi, cents=0.0):
        f = 440.0 * 2 ** ((midi - 69 + cents / 100) / 12)
        return np.sin(2 * np.pi * f * t)

    triad = tone(60) + tone(64) + tone(67)
    levels = {}
    for name, cents in (("tempered", 0.0), ("natural", -31.0)):
        y = (0.2 * (triad + 0.6 * tone(70, cents))).astype(np.float32)
        _, _, cqt = mir.chroma_features(y, sr, 512, with_cqt=True)
        three = np.median(ch.treble_chroma(cqt), axis=1)
        centre = np.median(ch.treble_centre_chroma(cqt), axis=1)
        levels[name] = (ch.seventh_evidence(three, 0, False)["b7"], ch.seventh_evidence(centre, 0, False)["b7"])
    # measured: tempered 0.49 / 0.49, natural 0.40 / 0.29 (3-bin / centre)
    assert levels["tempered"][1] > 0.4 and levels["tempered"][1] > 0.95 * levels["tempered"][0]
    assert levels["natural"][1] < 0.8 * levels["natural"][0]  # the flat one loses a quarter of its level there
    assert levels["natural"][1] < 0.7 * levels["tempered"][1]


def test_a_melody_major_seventh_above_c5_is_not_read_from_the_low_treble():
    """F major voiced in C3–B4 under a melody holding E5 (the maj7): the full treble reads Fmaj7, the
    accompaniment's register (``low_treble_chroma``) still a plain triad; an E4 inside the voicing reads maj7 in both."""
    from mirray.udfs import chords as ch
    from mirray.udfs import mir

    sr = 22050
    t = np.arange(3 * sr) / sr

    def tone(midi):
        return np.sin(2 * np.pi * 440.0 * 2 ** ((midi - 69) / 12) * t)

    triad = tone(53) + tone(57) + tone(60)  # F3 A3 C4
    f = mir.PITCH_CLASSES.index("F")
    got = {}
    for name, seventh in (("melody", 76), ("voicing", 64)):  # E5 above, E4 inside
        _, _, cqt = mir.chroma_features((0.2 * (triad + 1.2 * tone(seventh))).astype(np.float32), sr, 512, with_cqt=True)
        got[name] = [ch.seventh_evidence(np.median(c, axis=1), f, False)["maj7"]
                     for c in (ch.treble_chroma(cqt), ch.low_treble_chroma(cqt))]
    assert got["melody"][0] > 0.3 > got["melody"][1]
    assert got["voicing"][0] > 0.3 and got["voicing"][1] > 0.3


def test_a_minor_thirds_partial_is_not_a_min7_in_the_low_treble():
    """C minor voiced C4 Eb4 G4 with harmonic-rich tones: the Eb's 3rd partial is a tempered Bb5, which the full
    treble (C3–B5) reads as the chord's b7 and C3–B4 does not; a played Bb3 inside the voicing reads min7 in both."""
    from mirray.udfs import chords as ch
    from mirray.udfs import mir

    sr = 22050
    t = np.arange(3 * sr) / sr

    def tone(midi, partials=5):
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        return sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1))

    triad = tone(60) + tone(63) + tone(67)
    got = {}
    for name, voices in (("triad", triad), ("min7", triad + tone(58))):
        _, _, cqt = mir.chroma_features((0.1 * voices).astype(np.float32), sr, 512, with_cqt=True)
        got[name] = [ch.seventh_evidence(np.median(c, axis=1), 0, True)["b7"] for c in (ch.treble_chroma(cqt), ch.low_treble_chroma(cqt))]
    assert got["triad"][0] > 0.05 > got["triad"][1]  # the configured C3–B4 bar is 0.05
    assert got["min7"][1] > 0.05 and got["min7"][0] > got["triad"][0]


def test_an_arpeggio_is_not_fast_harmony():
    """One note a beat (a broken chord) makes first-pass chords a beat long; block chords changing every beat do too.
    Only the second is a chorale's harmonic rhythm."""
    labels, templates = chords.chord_templates("majmin")
    beats = (np.arange(33) * 0.5).tolist()
    frames = np.arange(33) * 4
    one_note = np.zeros((12, 132))
    block = np.zeros((12, 132))
    for i, f in enumerate(frames[:-1]):
        one_note[(0, 4, 7, 4)[i % 4], f:f + 4] = 1.0  # C E G E ...: C major broken, a bar long
        block[:, f:f + 4] = templates[labels.index(("C:maj", "F:maj", "G:maj", "A:min")[i % 4])][:, None]
    assert chords.notes_per_beat(one_note, frames) == 1.0
    assert chords.notes_per_beat(block, frames) >= 2.0
    per_beat = [{"start_sec": t, "end_sec": t + 0.5, "label": "C:maj"} for t in beats[:-1]]  # first pass a beat long
    assert chords.fast_harmony(per_beat, beats, 1.5, chords.notes_per_beat(block, frames))
    assert not chords.fast_harmony(per_beat, beats, 1.5, chords.notes_per_beat(one_note, frames))
    # a chord on every beat at 156 BPM is a walking bass read note by note, not a chorale; at 80 BPM it is one
    assert not chords.fast_harmony(per_beat, beats, 1.5, 3.0, tempo_bpm=156.0, max_tempo_bpm=130.0)
    assert chords.fast_harmony(per_beat, beats, 1.5, 3.0, tempo_bpm=80.0, max_tempo_bpm=130.0)
    assert np.array_equal(chords.decoding_frames(frames, chords.fast_harmony(per_beat, beats, 1.5, 1.0)), frames)  # arpeggio: beats only
    assert len(chords.decoding_frames(frames, chords.fast_harmony(per_beat, beats, 1.5, 3.0))) == 2 * len(frames) - 1


def _c_major_bar(seventh_frames: np.ndarray) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """One 4-beat C major chord, 10 frames a beat, B-flat sounding in ``seventh_frames`` only."""
    chroma = np.zeros((12, 40))
    chroma[[0, 4, 7]] = 1.0
    chroma[10, seventh_frames] = 1.0
    times = np.arange(40) * 0.05
    return [{"start_sec": 0.0, "end_sec": 2.0, "label": "C:maj"}], chroma, times, np.arange(4) * 0.5


def test_a_broken_chords_seventh_is_read_over_two_beats():
    """Comping in eighths over C7's four tones sounds B-flat on beats 1 and 3 only: one-beat windows miss it, two-beat
    windows hear it. A passing eighth on one beat stays a passing tone either way."""
    arpeggio = np.zeros(40, dtype=bool)
    arpeggio[0:10] = arpeggio[20:30] = True  # B-flat rings through beats 1 and 3
    segs, chroma, times, beats = _c_major_bar(arpeggio)
    assert chords.add_sevenths(segs, chroma, times, beat_times_sec=beats, window_beats=1)[0]["label"] == "C:maj"
    segs, chroma, times, beats = _c_major_bar(arpeggio)
    assert chords.add_sevenths(segs, chroma, times, beat_times_sec=beats, window_beats=2)[0]["label"] == "C:7"
    passing = np.zeros(40, dtype=bool)
    passing[15:20] = True  # an eighth on the second half of beat 2
    for window in (1, 2):
        segs, chroma, times, beats = _c_major_bar(passing)
        assert chords.add_sevenths(segs, chroma, times, beat_times_sec=beats, window_beats=window)[0]["label"] == "C:maj"
    with pytest.raises(ValueError, match="window_beats"):
        chords.add_sevenths(segs, chroma, times, beat_times_sec=beats, window_beats=0)


def test_notes_keep_a_first_inversion_from_reading_as_the_minor_chord_on_its_bass():
    """C/E with a loud bass (organ pedal): folded chroma sees E's harmonics (B, and D) and names E:min; the span's
    notes (NNLS over note profiles) are E, C, G exactly, and matching on them names C:maj."""
    from mirray.udfs.mir import chroma_from_cqt

    dictionary = chords._note_dictionary(252, 36)
    notes = np.zeros(dictionary.shape[1])
    for midi, level in ((40, 3.0), (60, 1.0), (67, 1.0)):  # E2 three times as loud as C4 and G4
        notes[midi - 24] = level
    cqt = np.repeat((dictionary @ notes)[:, None], 40, axis=1)
    chroma = chroma_from_cqt(cqt)
    assert chroma[11, 0] > 0.3  # B, from E's third harmonic
    found = chords.nnls_span_chroma(cqt, np.array([0, 40]))[:, 0]
    np.testing.assert_allclose(found[[4, 0, 7]], [3.0, 1.0, 1.0], rtol=0.02)
    assert found[[1, 2, 3, 5, 6, 8, 9, 10, 11]].max() < 0.02
    times, beats = np.arange(40) * 0.1, np.arange(0, 40, 10)
    folded = chords.estimate_chords(chroma, times, beats, 4.0, "majmin", compression=3)
    assert [c["label"] for c in folded] == ["E:min"]
    span_notes = chords.nnls_span_chroma(cqt, chords.span_bounds(beats, 40))
    for weight in (0.5, 1.0):
        matched = chords.estimate_chords(chroma, times, beats, 4.0, "majmin", compression=3, span_notes=span_notes, note_weight=weight)
        assert [c["label"] for c in matched] == ["C:maj"]
    with pytest.raises(ValueError, match="span_notes"):  # notes of other spans than these beats'
        chords.estimate_chords(chroma, times, beats[:2], 4.0, "majmin", span_notes=span_notes)


def test_a_root_whose_harmonics_outweigh_it_in_the_bass_chroma_is_no_inversion():
    """C2 with a weak fundamental: its 3rd partial (G3) is the loudest bass pitch class, so the bass chroma test alone
    names C/5; the notes solve finds C lowest and keeps C major. A real C/E (E2 under the chord) keeps its bass, and
    low kick-drum rumble (C1–D1, weaker) does not veto it."""
    dictionary = chords._note_dictionary(252, 36)
    times, beats = np.arange(40) * 0.1, [0.0, 1.0, 2.0, 3.0]

    def cqt_of(spectrum: np.ndarray) -> np.ndarray:
        return np.repeat(spectrum[:, None], 40, axis=1)

    def bass_on(pc: int) -> np.ndarray:
        b = np.full((12, 40), 0.1)
        b[pc] = 5.0
        return b

    def label(bass_pc: int, cqt: np.ndarray | None) -> str:
        seg = [{"start_sec": 0.0, "end_sec": 4.0, "label": "C:maj"}]
        return chords.add_inversions(seg, bass_on(bass_pc), times, beats, cqt=cqt)[0]["label"]

    chord = np.zeros(dictionary.shape[1])
    chord[[60 - 24, 64 - 24, 67 - 24]] = 1.0  # C4 E4 G4
    weak_root = dictionary @ chord
    c2 = np.zeros(252)
    for h, level in ((1, 0.2), (2, 0.6), (3, 1.5), (4, 0.5)):  # C2's partials, the 3rd (G3) loudest
        c2[int(round(36 * np.log2(h))) + 36] += level
    weak_root = weak_root + c2
    assert label(7, None) == "C:maj/5"  # the folded bass says G
    assert chords.lowest_note_pc(cqt_of(weak_root), 0, 40) == 0
    assert label(7, cqt_of(weak_root)) == "C:maj"
    e2 = np.zeros(dictionary.shape[1])
    e2[40 - 24] = 2.0
    kick = np.zeros(252)
    kick[:9] = 0.3  # C1–D1 rumble
    inverted = dictionary @ (chord + e2) + kick
    assert chords.lowest_note_pc(cqt_of(inverted), 0, 40) == 4
    assert label(4, cqt_of(inverted)) == "C:maj/3"


def test_a_seventh_outside_the_key_needs_more_evidence():
    """F with a soft E♭ (b7 evidence 0.15, over the 0.1 bar): F7 in B♭ major, where E♭ is a scale tone (V7), but F
    (IV) in C major, where E♭ is not and the margin lifts the bar to 0.25; the same E♭ loud (0.5) is F7 in either."""
    times = np.arange(40) * 0.1
    seg = [{"start_sec": 0.0, "end_sec": 4.0, "label": "F:maj"}]

    def chroma(eb_level: float) -> np.ndarray:
        c = np.full((12, len(times)), 0.02)
        c[[5, 9, 0]] = 1.0  # F A C
        c[3] = 0.02 + eb_level * 0.98
        return c

    def label(eb_level: float, key: str | None) -> str:
        return chords.add_sevenths([dict(s) for s in seg], chroma(eb_level), times, key=key, outside_key_margin={"b7": 0.15})[0]["label"]

    assert label(0.15, None) == "F:7"
    assert label(0.15, "Bb major") == "F:7"
    assert label(0.15, "C major") == "F:maj"
    assert label(0.5, "C major") == "F:7"
    assert chords.key_scale("A minor") == {9, 11, 0, 2, 4, 5, 7, 8}  # natural minor plus the leading tone G♯
    g = np.full((12, len(times)), 0.02)
    g[[7, 11, 2]] = 1.0  # G B D with a soft F♯ (maj7 evidence 0.35, over the 0.3 bar)
    g[6] = 0.02 + 0.35 * 0.98
    g_seg = [{"start_sec": 0.0, "end_sec": 4.0, "label": "G:maj"}]
    margin = {"maj7": 0.1}
    assert chords.add_sevenths([dict(s) for s in g_seg], g, times, key="G major", outside_key_margin=margin)[0]["label"] == "G:maj7"
    assert chords.add_sevenths([dict(s) for s in g_seg], g, times, key="C major", outside_key_margin=margin)[0]["label"] == "G:maj"
