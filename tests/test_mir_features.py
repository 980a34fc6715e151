"""Chords, meter, loudness and quality against known answers; odd inputs give sane values."""

import io

import mir_eval
import numpy as np
import pytest
import soundfile as sf

from mirray.config import load_config
from mirray.corpus.synth import POP_FORM, render_clip
from mirray.pipeline import song


def _analyse(samples, sr_hz=44100, bitrate_kbps=None):
    row = song.new_row({"song_id": "t", "uri": "t", "file_size_bytes": 0, "duplicate_uris": []}, "run")
    row["bitrate_kbps"] = bitrate_kbps
    row["decoded_duration_sec"] = samples.shape[0] / sr_hz
    song.mir_stage(row, samples.astype(np.float32), sr_hz, load_config())
    assert row["error"] is None, row["error"]
    return row


@pytest.mark.parametrize("tempo_bpm,tonic,mode,progression,beats_per_bar", [
    (120.0, "A", "major", None, 4), (96.0, "E", "minor", None, 3), (110.0, "D", "major", "pop", 4),
    (100.0, "Bb", "major", "jazz", 3), (130.0, "C", "major", "jazz", 4), (140.0, "F#", "minor", None, 3),
])
def test_chords_and_meter_on_generated_clips(tempo_bpm, tonic, mode, progression, beats_per_bar):
    samples, truth = render_clip(tempo_bpm, tonic, mode, 20.0, beats_per_bar=beats_per_bar, progression=progression, seed=3)
    row = _analyse(samples)
    ref_iv = np.array([c[:2] for c in truth["chords"]])
    est_iv = np.array([[c["start_sec"], c["end_sec"]] for c in row["chords"]])
    scores = mir_eval.chord.evaluate(ref_iv, [c[2] for c in truth["chords"]], est_iv, [c["label"] for c in row["chords"]])
    assert scores["majmin"] >= 0.9, scores
    assert scores["sevenths"] >= 0.7, (scores, [c["label"] for c in row["chords"]][:8])
    assert row["time_signature"] == f"{beats_per_bar}/4" and row["beats_per_bar"] == beats_per_bar
    inner = lambda t: np.array([x for x in t if 1.0 < x < 19.0])  # noqa: E731 — the tracker trims the clip's edges
    f = mir_eval.beat.f_measure(inner(truth["downbeat_times_sec"]), inner(row["downbeat_times_sec"]))
    assert f >= 0.9, (f, row["downbeat_times_sec"][:5], truth["downbeat_times_sec"][:5])


@pytest.mark.parametrize("tempo_bpm,mode,beats_per_bar", [(120.0, "major", 4), (140.0, "minor", 3)])
def test_sections_of_a_generated_pop_form(tempo_bpm, mode, beats_per_bar):
    samples, truth = render_clip(tempo_bpm, "D", mode, 0, beats_per_bar=beats_per_bar, form=POP_FORM, seed=5)
    row = _analyse(samples)
    ref = np.array([s[:2] for s in truth["sections"]])
    est = np.array([[s["start_sec"], s["end_sec"]] for s in row["sections"]])
    assert mir_eval.segment.detection(ref, est, window=3.0)[2] >= 0.75
    # labels agree with the truth over most of the song (0.5 s grid)
    est_tuples = [(s["start_sec"], s["end_sec"], s["label"]) for s in row["sections"]]

    def label_at(segments, t):
        return next((lab for a, b, lab in segments if a <= t < b), segments[-1][2])

    grid = np.arange(0, ref[-1, 1], 0.5)
    agree = np.mean([label_at(truth["sections"], t) == label_at(est_tuples, t) for t in grid])
    assert agree >= 0.7, (agree, [(round(s["start_sec"]), s["label"]) for s in row["sections"]])


def test_loudness_of_reference_tones():
    sr = 48000
    t = np.arange(sr * 20) / sr
    tone = 10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)
    row = _analyse(np.stack([tone, tone], axis=1), sr)
    assert row["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)  # BS.1770: -20 dBFS 1 kHz in L and R
    assert row["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert row["crest_factor_db"] == pytest.approx(3.01, abs=0.05)
    stepped = np.concatenate([tone[: sr * 10], tone[: sr * 10] * 10 ** (-10 / 20)])  # -20 then -30 dBFS
    row = _analyse(np.stack([stepped, stepped], axis=1), sr)
    assert row["loudness_range_lu"] == pytest.approx(10.0, abs=1.0)  # EBU 3342 style test signal


def test_loudness_agrees_with_pyloudnorm_on_music():
    import pyloudnorm

    samples = render_clip(120.0, "A", "minor", 20.0, vocals=True)[0] * 0.5
    row = _analyse(samples)
    assert row["loudness_lufs"] == pytest.approx(pyloudnorm.Meter(44100).integrated_loudness(samples.astype(np.float64)), abs=0.1)


def _mp3_roundtrip(samples, sr, compression_level):
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="MP3", compression_level=compression_level, bitrate_mode="CONSTANT")
    return sf.read(io.BytesIO(buf.getvalue()), dtype="float32")[0]


def test_transcoded_mp3_is_flagged_by_its_bandwidth():
    sr = 44100
    noise = (np.random.default_rng(0).standard_normal((sr * 15, 2)) * 0.1).astype(np.float32)
    honest = _mp3_roundtrip(noise, sr, 0.0)  # 320 kbps
    upcycled = _mp3_roundtrip(_mp3_roundtrip(noise, sr, 0.8), sr, 0.0)  # 96 kbps, re-encoded at 320
    a, b = _analyse(honest, sr, 320.0), _analyse(upcycled, sr, 320.0)
    assert a["bandwidth_hz"] > 19000 and a["likely_transcoded"] is False
    assert b["bandwidth_hz"] < 16500 and b["likely_transcoded"] is True
    assert a["low_bitrate"] is False and _analyse(honest, sr, 128.0)["low_bitrate"] is True


def test_clipping_silence_and_duration_flags():
    sr = 22050
    x = (np.random.default_rng(1).standard_normal(sr * 10) * 0.2).astype(np.float32)
    x[: sr * 5] = 0.0  # first half silent
    x[sr * 5: sr * 5 + sr // 10] = 1.0  # 0.1 s pinned at full scale = 1 % of samples
    row = _analyse(np.stack([x, x], axis=1), sr)
    assert row["silence_ratio"] == pytest.approx(0.5, abs=0.02)
    assert row["clipping_ratio"] == pytest.approx(0.01, abs=0.002)
    assert row["duration_out_of_range"] is True  # 10 s is outside 2–6 min


@pytest.mark.parametrize("name,samples,sr", [
    ("silence", np.zeros((44100 * 10, 2)), 44100),
    ("mono", render_clip(120.0, "G", "major", 10.0)[0][:, :1], 44100),
    ("8 kHz", render_clip(120.0, "G", "major", 10.0, sr_hz=8000)[0], 8000),
    ("1 second", render_clip(120.0, "G", "major", 1.0)[0], 44100),
])
def test_odd_inputs_give_sane_values(name, samples, sr):
    row = _analyse(samples, sr)
    assert row["tempo_bpm"] is None or 60 <= row["tempo_bpm"] <= 200
    assert row["time_signature"] in (None, "3/4", "4/4")
    assert all(c["end_sec"] > c["start_sec"] for c in row["chords"])
    if name == "silence":
        assert row["key"] is None and row["loudness_lufs"] is None and row["silence_ratio"] == 1.0
        assert {c["label"] for c in row["chords"]} == {"N"}
    if name == "mono":
        assert row["key"] == "G major"


def test_key_segments_follow_a_modulation():
    first, _ = render_clip(110.0, "C", "major", 40.0, seed=1, progression="pop")
    second, _ = render_clip(110.0, "E", "major", 40.0, seed=2, progression="pop")
    row = _analyse(np.concatenate([first, second]))
    keys = [(s["key"], s["start_sec"]) for s in row["key_segments"]]
    assert [k for k, _ in keys] == ["C major", "E major"] and abs(keys[1][1] - 40.0) <= 4.0
    mods = row["music_theory"]["harmonic_analysis"]["modulations"]
    assert len(mods) == 1 and (mods[0]["from_key"], mods[0]["to_key"]) == ("C major", "E major")
    steady = _analyse(np.concatenate([first, first]))
    assert [s["key"] for s in steady["key_segments"]] == ["C major"]


def test_a_key_change_is_named_by_the_transposition_of_the_songs_chords():
    """A last chorus a whole tone up whose phrases open on IV: the chords moved whole name the new key; a relative-minor
    bridge or a region the home chords explain is no transposition."""
    from mirray.udfs.key_regions import transposed_key

    def run(a, labels, bar_sec=2.0):
        return [{"start_sec": a + bar_sec * i, "end_sec": a + bar_sec * (i + 1), "label": lab} for i, lab in enumerate(labels)]

    verse, chorus = ["C:maj", "A:min", "F:maj", "G:maj"], ["F:maj", "G:7", "C:maj", "A:min"]
    home = run(0, verse * 4 + chorus * 4)
    ref = {"start_sec": 0.0, "end_sec": 64.0, "key": "C major"}
    up = run(64, ["G:maj", "A:7", "D:maj", "B:min"] * 4)  # the chorus in D major
    last = {"start_sec": 64.0, "end_sec": 96.0, "key": "G major"}  # what the phrase starts on IV suggest
    assert transposed_key(last, ref, home + up, 0.8) == "D major"
    minor_bridge = run(64, ["A:min", "D:min", "E:7", "A:min"] * 4)  # the relative minor: the home chords, no move
    assert transposed_key(last, ref, home + minor_bridge, 0.8) is None
    half_moved = run(64, ["G:maj", "A:7", "E:maj", "C#:min"] * 4)  # half of it maps under any one move
    assert transposed_key(last, ref, home + half_moved, 0.8) is None
    f_minor = [{**ref, "key": "A minor"}, {**last, "key": "C minor"}]  # a minor song keeps its mode
    assert transposed_key(f_minor[1], f_minor[0], run(0, ["A:min", "F:maj", "C:maj", "G:maj"] * 8) +
                          run(64, ["B:min", "G:maj", "D:maj", "A:maj"] * 4), 0.8) == "B minor"


def test_a_last_chorus_moved_up_too_short_for_the_key_windows_is_its_own_segment():
    """12 s of chorus a step up after 64 s in C major: the section start where the chords move whole opens a D-major
    segment; an outro vamp on two chords, a home-key ending and a tail that starts in the home key are no change."""
    from mirray.udfs.key_regions import transposed_tail

    def run(a, labels, bar_sec=1.5):
        return [{"start_sec": a + bar_sec * i, "end_sec": a + bar_sec * (i + 1), "label": lab} for i, lab in enumerate(labels)]

    home = run(0, ["C:maj", "A:min", "F:maj", "G:maj"] * 4 + ["F:maj", "G:7", "C:maj", "A:min"] * 4)  # 48 s
    segs = [{"start_sec": 0.0, "end_sec": 60.0, "key": "C major"}]
    up = run(48, ["G:maj", "A:7", "D:maj", "B:min"] * 2)  # 12 s: the chorus in D major
    found = transposed_tail(segs, home + up, [0.0, 24.0, 48.0], 0.8, 8.0, 0.2)
    assert [(s["key"], s["start_sec"]) for s in found] == [("C major", 0.0), ("D major", 48.0)]
    assert found[0]["end_sec"] == 48.0 and found[1]["end_sec"] == 60.0
    # the same tail, the phrase before it (from 36 s) still in C major: the change opens at 48 s, not 36 s
    assert [s["start_sec"] for s in transposed_tail(segs, home + up, [0.0, 24.0, 36.0, 48.0], 0.8, 8.0, 0.2)] == [0.0, 48.0]
    vamp = run(48, ["D:maj", "G:maj"] * 4)  # maps under two moves (I–IV of D or V–I of G): no key named
    assert transposed_tail(segs, home + vamp, [0.0, 24.0, 48.0], 0.8, 8.0, 0.2) == segs
    ending = run(48, ["F:maj", "G:7", "C:maj", "A:min"] * 2)  # the home chorus again
    assert transposed_tail(segs, home + ending, [0.0, 24.0, 48.0], 0.8, 8.0, 0.2) == segs
    assert transposed_tail(segs, home + up, [0.0, 24.0, 48.0], 0.8, 0.0, 0.2) == segs  # off


def test_a_key_change_moves_to_the_section_start_where_the_chords_change_key():
    """The windows put a change from C to D major at 40 s, inside a bridge on V/V–V (32–48 s) that reads in both keys; the
    section start where the chords leave C major is 48 s (an applied dominant counts for C, as music21 names it V/V)."""
    from mirray.udfs.key_regions import placed_change

    def run(a, labels, sec=2.0):
        return [{"start_sec": a + sec * i, "end_sec": a + sec * (i + 1), "label": lab} for i, lab in enumerate(labels)]

    chords = run(0, ["C:maj", "A:min", "F:maj", "G:maj"] * 4) + run(32, ["A:min", "D:7", "G:maj", "G:maj"] * 2) + \
        run(48, ["G:maj", "A:maj", "D:maj", "B:min"] * 2)
    segs = [{"start_sec": 0.0, "end_sec": 40.0, "key": "C major"}, {"start_sec": 40.0, "end_sec": 64.0, "key": "D major"}]
    starts = [0.0, 16.0, 32.0, 48.0]
    moved = placed_change([dict(s) for s in segs], chords, starts, 8.0, applied=True)
    assert [(s["key"], s["start_sec"], s["end_sec"]) for s in moved] == [("C major", 0.0, 48.0), ("D major", 48.0, 64.0)]
    assert placed_change([dict(s) for s in segs], chords, starts, 4.0, applied=True) == segs  # no section start that near
    assert placed_change([dict(s) for s in segs], chords, starts, 0.0, applied=True) == segs  # off
    assert placed_change(segs[:1], chords, starts, 8.0) == segs[:1]


def test_key_window_sets_the_shortest_modulation():
    """A chorale-length excursion (8 s in D major between C major phrases) is a key region only with a short window."""
    from mirray.udfs.chords import chord_tones
    from mirray.udfs.key_regions import key_segments
    from mirray.udfs.mir import pitch_class

    def phrase(a, labels):  # 2 s per chord from ``a``
        return [{"start_sec": a + 2 * i, "end_sec": a + 2 * i + 2, "label": lab} for i, lab in enumerate(labels)]

    home = ["C:maj", "F:maj", "G:maj", "C:maj"]
    chords = phrase(0, home * 2) + phrase(16, ["D:maj", "A:maj", "B:min", "D:maj"]) + phrase(24, home * 2)
    frame_times = np.arange(0.0, 40.0, 0.1)
    chroma = np.full((12, len(frame_times)), 0.05)
    for c in chords:
        root, quality = c["label"].split(":")
        sel = (frame_times >= c["start_sec"]) & (frame_times < c["end_sec"])
        for pc in chord_tones(pitch_class(root), quality):
            chroma[pc, sel] = 1.0
    default = key_segments(chroma, frame_times, chords, 40.0)
    assert [s["key"] for s in default] == ["C major"]  # 16 s windows: a passing tonicisation
    short = key_segments(chroma, frame_times, chords, 40.0, window_sec=6.0, hop_sec=1.5, min_segment_sec=4.0)
    assert [s["key"] for s in short] == ["C major", "D major", "C major"]
    assert abs(short[1]["start_sec"] - 16.0) <= 3.0 and abs(short[1]["end_sec"] - 24.0) <= 3.0


def test_key_regions_that_come_home_are_tonicisations():
    from mirray.udfs.key_regions import fold_key_regions

    def seg(a, b, key):
        return {"start_sec": a, "end_sec": b, "key": key}

    def chords(a, labels):  # 4 s each from ``a``
        return [{"start_sec": a + 4 * i, "end_sec": a + 4 * i + 4, "label": lab} for i, lab in enumerate(labels)]

    home = chords(0, ["C:maj", "G:maj", "A:min", "F:maj"])
    bridge_on_vi = chords(16, ["A:min", "F:maj", "E:7", "A:min"])            # 3 of 4 diatonic to C (E7 is V/vi)
    up_a_step = chords(16, ["D:maj", "A:maj", "B:min", "G:maj"])             # only G diatonic to C
    segs = [seg(0, 16, "C major"), seg(16, 32, "A minor"), seg(32, 48, "C major")]
    joined = fold_key_regions([dict(s) for s in segs], home + bridge_on_vi + chords(32, ["C:maj"] * 4), 0.75)
    assert joined == [seg(0, 48, "C major")]
    segs[1]["key"] = "D major"
    kept = fold_key_regions([dict(s) for s in segs], home + up_a_step + chords(32, ["C:maj"] * 4), 0.75)
    assert [s["key"] for s in kept] == ["C major", "D major", "C major"]
    moved_on = [seg(0, 16, "C major"), seg(16, 48, "A minor")]  # no return home: left alone
    assert fold_key_regions([dict(s) for s in moved_on], home + bridge_on_vi, 0.75) == moved_on
    # with the home key known, an ending the home key explains joins it; an ending a step up stays
    assert fold_key_regions([dict(s) for s in moved_on], home + bridge_on_vi, 0.75, home_key="C major") == [seg(0, 48, "C major")]
    step_up = [seg(0, 16, "C major"), seg(16, 32, "D major")]
    assert fold_key_regions([dict(s) for s in step_up], home + up_a_step, 0.75, home_key="C major") == step_up
    # and so does an opening: an A-minor song whose first 16 s read as C major
    opening = [seg(0, 16, "C major"), seg(16, 48, "A minor")]
    assert fold_key_regions([dict(s) for s in opening], home + bridge_on_vi, 0.75, home_key="A minor") == [seg(0, 48, "A minor")]
    # a bridge on V through two applied dominants (V7/V → V, V/vi → vi: half its chords outside C major) comes home
    # when applied dominants count as the key's own; D major → G, the same chords with the step up's D–A, does not
    on_v = chords(16, ["D:7", "G:maj", "E:maj", "A:min"])
    segs = [seg(0, 16, "C major"), seg(16, 32, "G major"), seg(32, 48, "C major")]
    rest = chords(32, ["C:maj"] * 4)
    assert [s["key"] for s in fold_key_regions([dict(s) for s in segs], home + on_v + rest, 0.75)] == ["C major", "G major", "C major"]
    assert fold_key_regions([dict(s) for s in segs], home + on_v + rest, 0.75, applied_dominants=True) == [seg(0, 48, "C major")]
    segs[1]["key"] = "D major"
    assert [s["key"] for s in fold_key_regions([dict(s) for s in segs], home + up_a_step + rest, 0.75, applied_dominants=True)] == [
        "C major", "D major", "C major"]


def test_applied_dominants_resolve_a_fifth_down_to_a_chord_of_the_key():
    from mirray.udfs.key_regions import applied_dominant

    def c(label):
        return {"start_sec": 0.0, "end_sec": 1.0, "label": label}

    assert applied_dominant(c("E:7"), c("A:min"), 0, "major")       # V7/vi in C
    assert applied_dominant(c("D:maj"), c("G:maj"), 0, "major")     # V/V
    assert not applied_dominant(c("G:7"), c("C:maj"), 0, "major")   # V7 → I: the key's own dominant, diatonic already
    assert not applied_dominant(c("E:7"), c("F:maj"), 0, "major")   # no resolution a fifth down
    assert not applied_dominant(c("D:min"), c("G:maj"), 0, "major") # ii → V: diatonic
    assert not applied_dominant(c("F#:7"), c("B:maj"), 0, "major")  # B major is no chord of C major
    assert not applied_dominant(c("E:7"), None, 0, "major") and not applied_dominant(c("E:7"), c("N"), 0, "major")
    assert applied_dominant(c("A:7"), c("D:min"), 9, "minor")       # V7/iv in A minor



def test_key_segments_that_never_visit_the_home_key_take_it_where_it_explains_as_much():
    from mirray.udfs.key_regions import fold_key_regions

    def chords(a, labels):  # 4 s each from ``a``
        return [{"start_sec": a + 4 * i, "end_sec": a + 4 * i + 4, "label": lab} for i, lab in enumerate(labels)]

    # an A-major song with a borrowed ♭VII (G) read as D major, then as the relative F♯ minor: the same chords
    # (I–♭VII–IV, vi–IV–I–V; D major explains 7 of 8 of the first, A major 6 of 8) are no modulation
    song = chords(0, ["A:maj", "G:maj", "D:maj", "A:maj", "A:maj", "G:maj", "D:maj", "E:maj"])
    song += chords(32, ["F#:min", "D:maj", "A:maj", "E:maj"] * 2)
    segs = [{"start_sec": 0, "end_sec": 32, "key": "D major"}, {"start_sec": 32, "end_sec": 64, "key": "F# minor"}]
    assert fold_key_regions([dict(s) for s in segs], song, 0.75, home_key="A major") == segs  # no gain test: left alone
    assert fold_key_regions([dict(s) for s in segs], song, 0.75, home_key="A major", min_gain=0.1) == [
        {"start_sec": 0, "end_sec": 64, "key": "A major"}]
    # where the home key has a segment of its own, a neighbour's lean (a modulation to a close key in music
    # that modulates) is left to the chroma that chose it
    # (D, A, C, B♭: half diatonic to D major and to A major alike, too little for the edge test)
    visited = [{"start_sec": 0, "end_sec": 32, "key": "A major"}, {"start_sec": 32, "end_sec": 64, "key": "D major"}]
    wandering = song[:8] + chords(32, ["D:maj", "A:maj", "C:maj", "Bb:maj"] * 2)
    assert fold_key_regions([dict(s) for s in visited], wandering, 0.75, home_key="A major", min_gain=0.1) == visited
    # a song a step up from its home key all along (B major: of its chords only E is diatonic to A) stays B major
    up = chords(0, ["B:maj", "F#:maj", "G#:min", "E:maj"] * 4)
    moved = [{"start_sec": 0, "end_sec": 64, "key": "B major"}]
    assert fold_key_regions([dict(s) for s in moved], up, 0.75, home_key="A major", min_gain=0.1) == moved

def test_chords_from_bass_and_other_stems():
    from mirray.corpus.synth import render_stems

    stems, truth = render_stems(110.0, "D", "major", 24.0, vocals=True, progression="pop", seed=5)
    mix = np.stack([sum(stems.values())] * 2, axis=1)
    harmonic = np.stack([stems["bass"] + stems["other"]] * 2, axis=1)
    ref_iv = np.array([c[:2] for c in truth["chords"]])
    for source, h in (("mix", None), ("stems", harmonic)):
        row = song.new_row({"song_id": "t", "uri": "t", "file_size_bytes": 0, "duplicate_uris": []}, "run")
        row["decoded_duration_sec"] = 24.0
        song.mir_stage(row, mix, 44100, load_config(), h)
        assert row["error"] is None and row["chord_source"] == source
        est_iv = np.array([[c["start_sec"], c["end_sec"]] for c in row["chords"]])
        majmin = mir_eval.chord.evaluate(ref_iv, [c[2] for c in truth["chords"]], est_iv, [c["label"] for c in row["chords"]])["majmin"]
        assert majmin >= 0.9, (source, majmin)
        assert row["tempo_bpm"] == pytest.approx(110.0, rel=0.02)  # rhythm stays on the mix


@pytest.mark.parametrize("tempo_bpm,seed", [(176.0, 10), (178.0, 1)])
def test_fast_drum_grooves_are_read_at_their_beat_not_half_time(tempo_bpm, seed):
    # librosa's tempo prior alone reads both at half time (88, 89 BPM); beat_refine.metric_level doubles them
    samples, truth = render_clip(tempo_bpm, "A", "major", 20.0, seed=seed)
    row = _analyse(samples)
    assert row["tempo_bpm"] == pytest.approx(tempo_bpm, rel=0.02)
    ref = mir_eval.beat.trim_beats(np.array(truth["beat_times_sec"]))
    assert mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(np.array(row["beat_times_sec"]))) > 0.9
