"""Section labels from repetition: which parts repeat, and which repeated part is the chorus."""

import numpy as np

from mirray.udfs import sections
from mirray.udfs.mir import PITCH_CLASSES

BPB = 4


def _part(chords: list[str], bars: int, seed: int) -> np.ndarray:
    """Per-beat chroma (12, bars * BPB) of a chord loop, one chord per bar, with a little noise."""
    rng = np.random.default_rng(seed)
    out = []
    for bar in range(bars):
        root = chords[bar % len(chords)]
        minor = root.endswith("m")
        pc = PITCH_CLASSES.index(root.rstrip("m"))
        v = np.full(12, 0.1)
        v[[pc, (pc + (3 if minor else 4)) % 12, (pc + 7) % 12]] = 1.0
        out.extend([v + 0.05 * rng.random(12) for _ in range(BPB)])
    return np.array(out).T


VERSE, CHORUS, BRIDGE = ["C", "G", "Am", "F"], ["Am", "Em", "F", "G"], ["Dm", "Dm", "Bb", "C"]


def _song(parts: list[np.ndarray]) -> list[np.ndarray]:
    """The parts as estimate_sections hands them to the labeller: less the whole song's mean chroma."""
    song = np.concatenate(parts, axis=1)
    z = song - song.mean(axis=1, keepdims=True)
    return np.split(z, np.cumsum([p.shape[1] for p in parts])[:-1], axis=1)


def _labels(parts: list[np.ndarray], rms: list[float] | None = None) -> list[str]:
    return sections._labels(_song(parts), rms or [1.0] * len(parts), [p.shape[1] / BPB for p in parts], BPB, 0.3)


def test_aligned_distance_follows_the_order_of_the_chords_and_forgives_a_shifted_boundary():
    raw = [_part(VERSE, 8, 0), _part(VERSE, 8, 1), _part(CHORUS, 8, 2)]
    # much the same pitch classes on average: a mean-chroma comparison hardly tells these apart
    mean_v, mean_c = raw[0].mean(axis=1), raw[2].mean(axis=1)
    assert mean_v @ mean_c / np.linalg.norm(mean_v) / np.linalg.norm(mean_c) > 0.9
    verse, again, chorus = _song(raw)
    assert sections.aligned_distance(verse, again, BPB, 4 * BPB) < 0.05
    assert sections.aligned_distance(verse, chorus, BPB, 4 * BPB) > 0.3
    late = again[:, 2 * BPB:]  # the second verse found two bars late
    assert sections.aligned_distance(verse, late, BPB, 4 * BPB) < 0.05
    assert sections.aligned_distance(verse, late, BPB, 0) > 0.3


def test_the_chorus_is_the_part_heard_most_often_and_verses_come_first():
    v, c, b = (lambda s: _part(VERSE, 8, s)), (lambda s: _part(CHORUS, 8, s)), (lambda s: _part(BRIDGE, 8, s))
    intro = _part(["C"], 4, 9)
    # equal loudness everywhere: the labels come from repetition alone
    assert _labels([intro, v(1), c(2), v(3), c(4), b(5), c(6)]) == ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus"]
    # as many verses as choruses: the part that comes first is the verse
    assert _labels([v(1), c(2), v(3), c(4)]) == ["verse", "chorus", "verse", "chorus"]
    # AABA: one repeated part, the verse
    assert _labels([v(1), v(2), b(3), v(4)]) == ["verse", "verse", "bridge", "verse"]
    # a quiet, short last part that repeats the verse is the outro
    assert _labels([v(1), c(2), v(3), c(4), c(5), _part(VERSE, 4, 6)], [1.0] * 5 + [0.3])[-1] == "outro"


def test_a_part_counts_its_returns_not_its_segments():
    v, c, b = (lambda s: _part(VERSE, 8, s)), (lambda s: _part(CHORUS, 8, s)), (lambda s: _part(BRIDGE, 8, s))
    frame = lambda s: _part(["E", "A"], 4, s)  # noqa: E731
    # AABA whose bridge the segmenter cut in two: still one bridge, and the A part is the verse
    assert _labels([v(1), v(2), b(3), b(4), v(5)]) == ["verse", "verse", "bridge", "bridge", "verse"]
    # two verses back to back, then chorus, verse, chorus: both parts return twice, the later one is the chorus
    assert _labels([v(1), v(2), c(3), b(4), v(5), c(6)]) == ["verse", "verse", "chorus", "bridge", "verse", "chorus"]
    # the same material opening and closing the song at full level frames it: intro and outro
    assert _labels([frame(1), v(2), c(3), v(4), c(5), frame(6)]) == ["intro", "verse", "chorus", "verse", "chorus", "outro"]
    # a quiet short intro playing the chorus is still the intro, and does not count as a chorus
    assert _labels([c(1), v(2), c(3), v(4), c(5)], [0.3, 1.0, 1.0, 1.0, 1.0]) == ["intro", "verse", "chorus", "verse", "chorus"]


def test_sections_without_singing_between_sung_ones_are_instrumental():
    labels = ["intro", "verse", "chorus", "verse", "chorus", "outro"]
    vocal = [0.0, 0.2, 0.3, 0.02, 0.25, 0.0]  # a solo in place of the second verse; no voice in intro/outro
    assert sections.mark_instrumental(labels, vocal) == ["intro", "verse", "chorus", "instrumental", "chorus", "outro"]
    # sung quietly is still sung; an all-instrumental song keeps its labels
    assert sections.mark_instrumental(labels, [0.0, 0.2, 0.3, 0.15, 0.25, 0.0]) == labels
    assert sections.mark_instrumental(labels, [0.0] * 6) == labels
    # an unsung opening on the chorus's chords is the intro; an unsung ending, the outro
    assert sections.mark_instrumental(["chorus", "verse", "chorus", "verse"], [0.01, 0.2, 0.3, 0.0]) == ["intro", "verse", "chorus", "outro"]


def test_boundaries_found_a_bar_or_two_off_move_to_the_bar_where_the_texture_changes():
    # verse (chords only, quiet) 8 bars, chorus (louder, brighter) 8 bars, verse again 8 bars: changes at bars 8 and 16
    chroma = np.concatenate([_part(VERSE, 8, 0), _part(CHORUS, 8, 1), _part(VERSE, 8, 2)], axis=1)
    n = chroma.shape[1]
    loud = np.r_[np.full(8 * BPB, 0.1), np.full(8 * BPB, 0.4), np.full(8 * BPB, 0.1)]
    rng = np.random.default_rng(3)
    timbre = np.vstack([loud * 5, -loud * 3]) + 0.05 * rng.standard_normal((2, n))
    beat_sec = 0.5
    beats = np.arange(n) * beat_sec
    downbeats = beats[::BPB]
    bar = BPB * beat_sec
    found = [{"start_sec": 0.0, "end_sec": 7 * bar, "label": "verse"}, {"start_sec": 7 * bar, "end_sec": 18 * bar, "label": "chorus"},
             {"start_sec": 18 * bar, "end_sec": n * beat_sec, "label": "verse"}]  # one bar early, two bars late
    moved = sections.refine_sections(found, beats, downbeats, chroma, timbre, loud, BPB, radius_bars=2)
    assert [s["start_sec"] for s in moved] == [0.0, 8 * bar, 16 * bar]
    assert [s["label"] for s in moved] == ["verse", "chorus", "verse"]
    assert all(a["end_sec"] == b["start_sec"] for a, b in zip(moved[:-1], moved[1:])) and moved[-1]["end_sec"] == n * beat_sec
    # within one bar the late boundary cannot reach bar 16; radius 0 moves nothing
    assert [s["start_sec"] for s in sections.refine_sections(found, beats, downbeats, chroma, timbre, loud, BPB, radius_bars=1)][1] == 8 * bar
    assert sections.refine_sections(found, beats, downbeats, chroma, timbre, loud, BPB, radius_bars=0) == found


def test_a_moved_boundary_never_passes_its_neighbour():
    rng = np.random.default_rng(4)
    n = 12 * BPB
    beats = np.arange(n) * 0.5
    rms = np.r_[np.full(6 * BPB, 0.1), np.full(6 * BPB, 0.5)]  # one real change, at bar 6
    found = [{"start_sec": 0.0, "end_sec": 10.0, "label": "intro"}, {"start_sec": 10.0, "end_sec": 14.0, "label": "verse"},
             {"start_sec": 14.0, "end_sec": n * 0.5, "label": "outro"}]  # boundaries at bars 5 and 7, both near bar 6
    moved = sections.refine_sections(found, beats, beats[::BPB], rng.random((12, n)), rng.random((3, n)), rms, BPB, radius_bars=2)
    starts = [s["start_sec"] for s in moved]
    assert starts == sorted(set(starts)) and 12.0 in starts


def test_a_near_tie_a_bar_off_the_phrase_grid_goes_to_the_grid():
    beats = np.arange(160) * 0.5  # 40 bars of 4/4 at 120 BPM
    downbeats = beats[::4]

    def song(transition: float) -> np.ndarray:  # sections at bars 8, 16, 24 and 32; bar 31 leads into the last
        level = [0.0] * 8 + [1.0] * 8 + [0.0] * 8 + [1.0] * 7 + [transition] + [2.0] * 8
        return np.array([[lv for lv in level for _ in range(4)], [float(b >= 16) * lv for b, lv in enumerate(level) for _ in range(4)]])

    guesses = [17.0, 31.0, 48.0, 63.0]  # the novelty's peaks, a bar or so off
    # bar 31 halfway between the parts: as much change entering it as leaving it; the grid of bars 8, 16, 24 decides
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.5), 4, phrase_bars=0)] == [8, 16, 24, 31]
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.5), 4)] == [8, 16, 24, 32]
    # a clear change at bar 31 stays there: the grid only settles near-ties
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.8), 4)] == [8, 16, 24, 31]


def test_weak_boundaries_off_the_grid_do_not_outvote_strong_ones_on_it():
    beats = np.arange(160) * 0.5  # 40 bars of 4/4 at 120 BPM
    downbeats = beats[::4]

    def song(transition: float) -> np.ndarray:  # strong changes at bars 8 and 16, faint ones at 22 and 26, bar 31 leads into 32
        level = [0.0] * 8 + [2.0] * 8 + [0.0] * 6 + [0.3] * 4 + [0.0] * 5 + [transition] + [2.0] * 8
        return np.array([[lv for lv in level for _ in range(4)]])

    guesses = [17.0, 31.0, 44.0, 52.0, 63.0]
    # two boundaries on each grid (8, 16 and 22, 26): counted, a tie, so no grid and bar 31 keeps its near-tie
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.0), 4, weighted_vote=False)] == [8, 16, 22, 26, 31]
    # weighted by their change, the strong grid wins and the near-tie goes to bar 32
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.0), 4)] == [8, 16, 22, 26, 32]
    assert [t / 2 for t in sections.refine_boundaries(guesses, beats, downbeats, song(1.1), 4)] == [8, 16, 22, 26, 31]


def test_recurrence_affinity_is_librosas_recurrence_matrix():
    """The dense rewrite gives librosa's matrix on a verse-chorus-verse song (repeats, so mutual links far off
    the diagonal) and on random frames. Where frames repeat exactly, ties in distance make the choice among
    equally near neighbours arbitrary (librosa's depends on sklearn's search tree): there the rules hold."""
    import librosa

    rng = np.random.default_rng(3)
    song = np.vstack([np.concatenate([_part(VERSE, 8, 0), _part(CHORUS, 8, 1), _part(VERSE, 8, 2)], axis=1), rng.random((13, 96))])
    for x, k in ((song, 9), (rng.standard_normal((26, 150)), 15)):
        ours = sections.recurrence_affinity(x, width=8, k=k)
        theirs = librosa.segment.recurrence_matrix(x, width=8, k=k, sym=True, mode="affinity")
        assert np.count_nonzero(ours) > 2 * x.shape[1]
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    frozen = np.concatenate([song[:, :40], song[:, :40], song[:, 40:]], axis=1)  # frames 0-39 again as 40-79
    rec = sections.recurrence_affinity(frozen, width=8, k=13)
    lag = np.abs(np.subtract.outer(np.arange(136), np.arange(136)))
    assert np.array_equal(rec, rec.T) and not rec[lag < 8].any() and (rec >= 0).all() and (rec < 1).all()
    assert not rec[np.arange(40), np.arange(40) + 40].any()  # an exact twin is no link (distance 0)
    assert (np.count_nonzero(rec, axis=1) <= 13).all() and np.count_nonzero(rec) > 2 * 136


def _cymbal_band(n_bars: int, frame_rate_hz: float, bar_sec: float, crash_bars: list[int], drums_from_bar: int = 0) -> np.ndarray:
    """Per-frame power above 6 kHz: hats on every eighth from ``drums_from_bar`` on, a crash (10× a hat,
    ringing ~1.5 s) on the first downbeat of each bar in ``crash_bars``."""
    t = np.arange(int(n_bars * bar_sec * frame_rate_hz)) / frame_rate_hz
    power = np.full(len(t), 1e-4)
    for k in np.arange(drums_from_bar * bar_sec, n_bars * bar_sec, bar_sec / 8):
        power += np.where(t >= k, np.exp(-(t - k) / 0.05), 0.0) * (t < k + 0.3)
    for b in crash_bars:
        power += np.where(t >= b * bar_sec, 10 * np.exp(-(t - b * bar_sec) / 0.5), 0.0)
    return power


def test_a_crash_stands_out_and_steady_hats_or_drums_coming_in_do_not():
    rate, bar_sec = 43.0, 2.0
    downbeats = np.arange(16) * bar_sec
    accents = sections.downbeat_accents(_cymbal_band(16, rate, bar_sec, [4, 12], drums_from_bar=8), rate, downbeats, 4)
    assert accents[4] == 1.0 and accents[12] == 1.0  # crashes: ten times the hats, gone a bar later
    assert accents[8] == 0.0  # drums entering (and staying) at bar 8 without a crash
    assert np.all(np.delete(accents, [4, 12]) == 0.0)
    assert np.all(sections.downbeat_accents(np.zeros(100), rate, downbeats, 4) == 0.0)  # silence: no accents, no NaN
    assert len(sections.downbeat_accents(np.ones(100), rate, [1.0], 4)) == 1


def test_a_crash_puts_a_boundary_on_its_bar_where_the_harmony_changes_a_bar_late():
    beats = np.arange(96) * 0.5  # 24 bars of 4/4 at 120 BPM
    downbeats = beats[::4]
    # the second part starts at bar 12 on the first part's last chord: its harmony turns at bar 13
    level = [0.0] * 13 + [1.0] * 11
    bars = np.random.default_rng(5).random((2, 24))  # each bar's own texture, as real bars have
    features = np.array([[lv for lv in level for _ in range(4)]]) + np.repeat(bars, 4, axis=1)
    accents = np.zeros(len(downbeats))
    accents[12] = 1.0
    assert sections.refine_boundaries([24.0], beats, downbeats, features, 4, phrase_bars=0) == [26.0]
    assert sections.refine_boundaries([24.0], beats, downbeats, features, 4, phrase_bars=0, accents=accents, accent_weight=1.0) == [26.0]
    assert sections.refine_boundaries([24.0], beats, downbeats, features, 4, phrase_bars=0, accents=accents, accent_weight=4.0) == [24.0]
    # no weight, or accents that do not match the downbeats: the harmony decides as before
    assert sections.refine_boundaries([24.0], beats, downbeats, features, 4, phrase_bars=0, accents=accents) == [26.0]
    assert sections.refine_boundaries([24.0], beats, downbeats, features, 4, phrase_bars=0, accents=accents[:-1], accent_weight=4.0) == [26.0]


def test_a_section_left_shorter_than_the_minimum_joins_the_neighbour_with_its_label():
    """Boundary refinement can leave two boundaries a bar apart (verse 8–22, verse 22–24, chorus 24–40 at 2 s a bar):
    the one-bar verse joins the verse before it and the chorus keeps its start. A short section whose neighbours are
    other parts stays, and so do a short first or last section (a two-bar intro)."""
    from mirray.udfs.sections import merge_short_sections

    def sec(a, b, label):
        return {"start_sec": a, "end_sec": b, "label": label}

    song = [sec(0, 4, "intro"), sec(4, 22, "verse"), sec(22, 24, "verse"), sec(24, 40, "chorus"), sec(40, 42, "chorus"), sec(42, 58, "bridge")]
    merged = merge_short_sections(song, 3.5 * 2.0)
    assert [(s["start_sec"], s["end_sec"], s["label"]) for s in merged] == [
        (0, 4, "intro"), (4, 24, "verse"), (24, 42, "chorus"), (42, 58, "bridge")]
    assert song[1]["end_sec"] == 22  # the input is not changed
    lone = [sec(0, 16, "verse"), sec(16, 18, "bridge"), sec(18, 34, "chorus"), sec(34, 36, "outro")]
    assert merge_short_sections(lone, 7.0) == lone


def test_a_three_bar_novelty_kernel_finds_where_one_chord_loop_gives_way_to_another():
    """Sixteen bars of one 4-chord loop, then sixteen of another, one chord a bar: a kernel 2 bars either side sees
    every mid-loop chord change as new as the change of loop; 3 bars either side make the change of loop the
    strongest novelty away from the ends (what ``mir.section_novelty_bars: 3`` is for)."""
    from mirray.udfs import sections

    bpb = 4
    rng = np.random.default_rng(0)
    loops = [rng.normal(size=(12, 4)) for _ in range(2)]
    feats = sections._smooth(np.concatenate([np.tile(np.repeat(c, bpb, axis=1), 4) for c in loops], axis=1), bpb)

    def strongest_bar(half_width_bars: int) -> int:
        per_bar = sections.novelty(feats, half_width_bars * bpb)[::bpb]
        return 4 + int(np.argmax(per_bar[4:28]))

    assert strongest_bar(3) == 16
    assert strongest_bar(2) != 16


def test_features_averaged_over_two_bars_keep_chords_held_two_bars_from_reading_as_sections():
    """Twelve songs (intro, verse, chorus, verse, chorus, bridge, chorus, outro; 8-bar parts, each part its own texture) over
    one 4-chord loop whose chords last 2 bars: with features averaged bar by bar the chord changes inside the parts read
    as boundaries; averaged over 2 bars (``mir.section_smooth_bars: 2``) half as many do, and the true boundaries stay found."""
    from mirray.udfs import sections

    bpb = 4
    counts = {1: [0, 0], 2: [0, 0]}  # true boundaries found, boundaries found that are not true
    for seed in range(12):
        rng = np.random.default_rng(seed)
        loop = [np.abs(rng.normal(size=12)) for _ in range(4)]
        form = "IVCVCBCO"
        texture = {part: rng.normal(size=13) for part in sorted(set(form))}
        chroma, timbre, starts, n_bars = [], [], [], 0
        for part in form:
            starts.append(n_bars)
            for b in range(4 if part in "IO" else 8):
                chroma.append(np.repeat(loop[(b // 2) % 4][:, None], bpb, axis=1))
                timbre.append(np.repeat(texture[part][:, None], bpb, axis=1))
                n_bars += 1
        chroma = np.concatenate(chroma, axis=1) + 0.2 * rng.random((12, n_bars * bpb))
        timbre = np.concatenate(timbre, axis=1) + 0.5 * rng.normal(size=(13, n_bars * bpb))
        beats = np.arange(n_bars * bpb) * 0.5
        truth = {2.0 * s for s in starts[1:]}
        for smooth_bars in counts:
            found = {s["start_sec"] for s in sections.estimate_sections(beats, chroma, timbre, np.ones(len(beats)), beats[::bpb],
                                                                         n_bars * 2.0, bpb, smooth_bars=smooth_bars)[1:]}
            counts[smooth_bars][0] += len(found & truth)
            counts[smooth_bars][1] += len(found - truth)
    assert counts[1][0] >= 0.95 * 84 and counts[2][0] >= 0.95 * 84, counts  # 84 true boundaries in all
    assert counts[2][1] <= 0.6 * counts[1][1], counts


def test_smoothing_wider_than_a_short_song_still_gives_sections_covering_it():
    """``mir.section_min_bars: 1`` lets 3 bars be segmented; 4-bar smoothing is then wider than the song (np.convolve's
    "same" mode would return the kernel's length, not the song's)."""
    from mirray.udfs import sections

    rng = np.random.default_rng(1)
    beats = np.arange(12) * 0.5
    assert sections._smooth(rng.random((13, 12)), 16).shape == (13, 12)  # one value per beat, as the beats
    found = sections.estimate_sections(beats, rng.random((12, 12)), rng.random((13, 12)), np.ones(12), beats[::4], 6.0, 4,
                                       min_bars=1, smooth_bars=4)
    assert found[0]["start_sec"] == 0.0 and found[-1]["end_sec"] == 6.0
    assert all(a["end_sec"] == b["start_sec"] for a, b in zip(found[:-1], found[1:]))


def test_a_chorus_moved_up_a_step_is_labelled_in_the_songs_key():
    """Labels read again with each beat's chroma moved into the song's key take over the first labels; the boundaries stay."""
    from mirray.udfs.key_regions import key_offsets
    from mirray.udfs.sections import relabelled

    segs = [{"start_sec": 0.0, "end_sec": 30.0, "key": "C major"}, {"start_sec": 30.0, "end_sec": 40.0, "key": "D major"},
            {"start_sec": 40.0, "end_sec": 50.0, "key": "E minor"}, {"start_sec": 50.0, "end_sec": 60.0, "key": "A minor"}]
    assert key_offsets(segs, "C major", [5.0, 35.0, 45.0, 55.0, 70.0]).tolist() == [0, 2, 7, 0, 0]  # minor: its relative major
    first = [{"start_sec": 0.0, "end_sec": 20.0, "label": "verse"}, {"start_sec": 20.0, "end_sec": 40.0, "label": "chorus"},
             {"start_sec": 40.0, "end_sec": 60.0, "label": "bridge"}]
    again = [{"start_sec": 0.0, "end_sec": 19.0, "label": "verse"}, {"start_sec": 19.0, "end_sec": 41.0, "label": "chorus"},
             {"start_sec": 41.0, "end_sec": 60.0, "label": "chorus"}]
    out = relabelled(first, again)
    assert [(s["start_sec"], s["end_sec"], s["label"]) for s in out] == [(0.0, 20.0, "verse"), (20.0, 40.0, "chorus"), (40.0, 60.0, "chorus")]
    assert relabelled(first, []) == first
