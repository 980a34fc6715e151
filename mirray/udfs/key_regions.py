"""Key regions: where a song's key moves (windowed key scores smoothed by Viterbi), how each region is named, and key
changes by transposition (a last chorus a step up), as ``key_segments`` [{start_sec, end_sec, key}]."""

from __future__ import annotations

import numpy as np

from .mir import _IN_KEY, _TRIAD_OF, PITCH_CLASSES, _key_scores, diatonic_share, key_from_chroma, parse_label, pitch_class


def key_segments(chroma: np.ndarray, frame_times_sec: np.ndarray, chords: list[dict], duration_sec: float,
                 profile: str = "krumhansl", chord_weight: float = 1.0, window_sec: float = 16.0,
                 hop_sec: float = 4.0, stay: float = 0.97, sharpness: float = 15.0, min_segment_sec: float = 16.0,
                 phrase_starts_sec: list[float] | None = None, phrase_start_weight: float = 0.1,
                 region_diatonic: float = 0.75, end_cadence_weight: float = 0.0, home_key: str | None = None,
                 first_chord_weight: float = 0.0, phrase_end_weight: float = 0.0, min_gain: float = 0.0,
                 applied_dominants: bool = False, transposed_min_share: float = 0.0, tail_min_sec: float = 0.0,
                 tail_min_margin: float = 0.2, change_search_sec: float = 0.0) -> list[dict]:
    """Where the key moves: windowed key scores smoothed by a Viterbi pass over the 24 keys.

    Returns [{"start_sec", "end_sec", "key"}]; one segment when the key holds. Segments shorter than
    ``min_segment_sec`` are merged into a neighbour (a passing tonicisation is not a modulation). The 16 s
    defaults suit songs (6 s windows cost the GM dev set's key over time 0.938 → 0.804); music that modulates
    phrase by phrase (Bach chorales: a new key every 6–10 s in the RomanText analyses) reads better with 6 s
    windows and 4 s regions (local key 0.637 → 0.669, numerals 0.535 → 0.605), which the pipeline uses where it
    decodes chords chorale-style (``mir.key_window_sec_fast``; BENCHMARKS.md, sessions 29–30). Each
    segment is then named by ``key_from_chroma`` over its whole span (with the section starts inside
    it and their ends, the segment's last chord among them; the last segment also with the final-cadence cue),
    so a song without modulations gets the global key, not a window's guess. Last, a segment
    between two of the same key whose chords are still ``region_diatonic`` diatonic to that key is a
    tonicised region (a bridge on vi or V that comes home), not a modulation, and joins them; a real
    move (up a step, to a distant key) leaves most chords outside the home key. With ``home_key`` (the
    song's global key) the same test also joins a first or last segment to a home-key neighbour, and where no
    segment is in the home key, one whose own key makes at most ``min_gain`` more of its chord time diatonic
    than the home key does is the home key (``fold_key_regions``). With ``transposed_min_share``, before those joins, a
    key change that holds to the end is named by its chords: the segments after the last one in the main key (the longest
    segment, the longest in ``home_key`` where there is one: a song whose longest region reads the relative minor must not
    move the rest from there) take ``transposed_key``'s name where the main one's chords, transposed, map that share of
    their chord time. A key change moves the song's harmony whole, and the phrase starts of a short last chorus that opens
    on IV or vi name the wrong tonic. A segment between one in the main key and one in a third key, whose chords are
    ``region_diatonic`` diatonic to the main key, takes that key: a bridge on vi just before a key change has no same-key
    neighbours on both sides to join (GM songs with a final-chorus key change, BENCHMARKS.md session 37). Where no segment is
    in ``home_key`` and the last one is the main one moved whole, ``min_gain`` renames nothing: the song's key, read over the
    whole song, then leans to the key between both (F minor with a last chorus in G minor reads E♭ major). With
    ``tail_min_sec`` as well, where the segments end in the song's key, a last stretch from a phrase start that is that
    segment's chords moved whole becomes its own segment (``transposed_tail``): shorter than the windows can see. With
    ``change_search_sec``, the last change then moves to the phrase start within that many seconds where the chords fit
    it best (``placed_change``).
    """
    import librosa

    if window_sec <= 0 or hop_sec <= 0:
        raise ValueError(f"key segments need a positive window and hop, not {window_sec} s and {hop_sec} s (mir.key_window_sec, or key_window_sec_fast for chorale-style chords)")
    if duration_sec <= window_sec or chroma.shape[1] < 2:
        return []
    starts = np.arange(0.0, max(duration_sec - window_sec, 0.0) + 1e-9, hop_sec)
    scores = []
    for s in starts:
        sel = (frame_times_sec >= s) & (frame_times_sec < s + window_sec)
        win_chords = [c for c in chords if c["end_sec"] > s and c["start_sec"] < s + window_sec]
        correlation, bonus = _key_scores(chroma[:, sel].mean(axis=1) if sel.any() else np.zeros(12), profile, win_chords, chord_weight)
        scores.append(np.full(24, -1.0) if correlation is None else correlation + bonus)
    scores = np.array(scores).T  # (24, n_windows)
    prob = np.exp(sharpness * (scores - scores.max(axis=0)))
    prob /= prob.sum(axis=0)
    path = librosa.sequence.viterbi(prob, librosa.sequence.transition_loop(24, stay))
    names = [f"{PITCH_CLASSES[i % 12]} {'major' if i < 12 else 'minor'}" for i in range(24)]
    centres = starts + window_sec / 2
    segs: list[dict] = []
    for i, state in enumerate(path):
        start = 0.0 if i == 0 else float((centres[i - 1] + centres[i]) / 2)
        if segs and segs[-1]["key"] == names[state]:
            continue
        if segs:
            segs[-1]["end_sec"] = start
        segs.append({"start_sec": start, "end_sec": float(duration_sec), "key": names[state]})
    merged: list[dict] = []
    for seg in segs:  # fold short segments into the previous one
        if merged and seg["end_sec"] - seg["start_sec"] < min_segment_sec:
            merged[-1]["end_sec"] = seg["end_sec"]
        elif merged and merged[-1]["key"] == seg["key"]:
            merged[-1]["end_sec"] = seg["end_sec"]
        else:
            merged.append(dict(seg))
    named: list[dict] = []
    for i, seg in enumerate(merged):
        seg["key"] = region_key(chroma, frame_times_sec, chords, seg, profile, chord_weight, phrase_starts_sec, phrase_start_weight,
                                phrase_end_weight, end_cadence_weight if i == len(merged) - 1 else 0.0,
                                first_chord_weight if i == 0 else 0.0)["key"] or seg["key"]
        if named and named[-1]["key"] == seg["key"]:
            named[-1]["end_sec"] = seg["end_sec"]
        else:
            named.append(seg)
    if transposed_min_share and len(named) > 1:
        ref = main_key_segment([seg for seg in named if seg["key"] == home_key] or named)  # the song's key where it has a region
        home = ref["key"]
        last_home = max(i for i, seg in enumerate(named) if seg["key"] == home)
        # only a change that holds to the end: a region that comes back is left to fold_key_regions' A–B–A join
        moved = _joined(named[:last_home + 1] + [{**seg, "key": transposed_key(seg, ref, chords, transposed_min_share) or seg["key"]}
                                                  for seg in named[last_home + 1:]])
        # a region between the main key and another (a bridge on vi just before a key change) that the main key's chords
        # explain is inside the main key: no same-key neighbours on both sides for fold_key_regions to join it by
        for before, seg, after in zip(moved, moved[1:], moved[2:]):
            if (before["key"] == home and home != seg["key"] and after["key"] not in (home, seg["key"])
                    and segment_share(seg, home, chords, applied_dominants) >= region_diatonic):
                seg["key"] = home
        named = _joined(moved)
        # the song's key, read over the whole song, leans to the key between both (F minor + G minor reads E♭ major): it must
        # not rename the main region where the rest is that region moved whole
        if ref["key"] != home_key and named[-1]["key"] != home and transposed_key(named[-1], ref, chords, transposed_min_share):
            min_gain = 0.0
    if transposed_min_share and tail_min_sec and named and named[-1]["key"] == (home_key or named[-1]["key"]):
        named = transposed_tail(named, chords, phrase_starts_sec or [], transposed_min_share, tail_min_sec, tail_min_margin)
    return placed_change(fold_key_regions(named, chords, region_diatonic, home_key, min_gain, applied_dominants), chords,
                         phrase_starts_sec or [], change_search_sec, applied_dominants)


def region_key(chroma: np.ndarray, frame_times_sec: np.ndarray, chords: list[dict], seg: dict, profile: str = "krumhansl",
               chord_weight: float = 1.0, phrase_starts_sec: list[float] | None = None, phrase_start_weight: float = 0.1,
               phrase_end_weight: float = 0.0, end_cadence_weight: float = 0.0, first_chord_weight: float = 0.0) -> dict:
    """``key_from_chroma`` over ``seg`` alone: its frames' mean chroma, the chords sounding in it, the phrase starts inside."""
    sel = (frame_times_sec >= seg["start_sec"]) & (frame_times_sec < seg["end_sec"])
    inside = [c for c in chords if c["end_sec"] > seg["start_sec"] and c["start_sec"] < seg["end_sec"]]
    starts = [t for t in phrase_starts_sec or [] if seg["start_sec"] <= t < seg["end_sec"]]
    return key_from_chroma(chroma[:, sel].mean(axis=1) if sel.any() else np.zeros(12), profile, inside, chord_weight, starts,
                           phrase_start_weight, end_cadence_weight, first_chord_weight, phrase_end_weight=phrase_end_weight)


def placed_change(segs: list[dict], chords: list[dict], starts_sec: list[float], radius_sec: float,
                  applied: bool = False) -> list[dict]:
    """``segs`` with the last key change moved to the phrase (section) start within ``radius_sec`` where the chords fit it
    best: each chord's time counts for the side it starts on, + where it belongs to that side's key and not the other's,
    − the other way round (diatonic, or with ``applied`` an applied dominant of the key, ``applied_dominant``); kept where
    no start scores higher. The windows blur a change over half a window either side, and a bridge that tonicises
    the old key's V (the new key's IV a step up) reads in both keys; a key change comes at a section start."""
    if len(segs) < 2 or not radius_sec:
        return segs
    before, last = segs[-2], segs[-1]
    keys = [(pitch_class(seg["key"].split()[0]), seg["key"].split()[1]) for seg in (before, last)]
    played = [c for c in chords if c["label"] != "N" and c["end_sec"] > before["start_sec"] and c["start_sec"] < last["end_sec"]]
    marks = []
    for c, following in zip(played, played[1:] + [None]):
        old_fits, new_fits = (diatonic_share([c], tonic, mode) > 0.5 or (applied and applied_dominant(c, following, tonic, mode))
                              for tonic, mode in keys)
        marks.append((c["start_sec"], c["end_sec"] - c["start_sec"], int(old_fits) - int(new_fits)))

    def score(change_sec: float) -> float:
        return sum(sec * (lean if start < change_sec else -lean) for start, sec, lean in marks)

    candidates = [t for t in starts_sec if abs(t - last["start_sec"]) <= radius_sec and before["start_sec"] < t < last["end_sec"]]
    if not candidates or max(map(score, candidates)) <= score(last["start_sec"]) + 1e-9:
        return segs
    change_sec = max(candidates, key=score)
    return segs[:-2] + [{**before, "end_sec": change_sec}, {**last, "start_sec": change_sec}]


def _triad_seconds(chords: list[dict], seg: dict) -> tuple[dict[tuple[int, str], float], float]:
    """Seconds of each (root pitch class, "maj"/"min") triad among the chords inside ``seg`` (sevenths reduced to
    their triads), and the seconds of all its played chords (other qualities counted there only)."""
    seconds: dict[tuple[int, str], float] = {}
    total = 0.0
    for c in chords:
        sec = min(c["end_sec"], seg["end_sec"]) - max(c["start_sec"], seg["start_sec"])
        if c["label"] == "N" or sec <= 0:
            continue
        root, quality, _ = parse_label(c["label"])
        total += sec
        if quality in _TRIAD_OF:
            key = (pitch_class(root), _TRIAD_OF[quality])
            seconds[key] = seconds.get(key, 0.0) + sec
    return seconds, total


def transposed_key(seg: dict, ref: dict, chords: list[dict], min_share: float, min_vocabulary_share: float = 0.03) -> str | None:
    """``ref``'s key moved by the transposition that maps most of ``seg``'s chord time onto ``ref``'s own chords (those
    holding ``min_vocabulary_share`` of its time), when that is a real move (not 0) and maps ``min_share`` or more; else None.
    A pop key change moves the song's harmony whole (the last chorus a step up repeats the chorus), so the chords
    name the new key where its chroma alone, over a short last region, leans to the key's relative or its subdominant:
    a chorus that opens on IV or vi gives the phrase-start cue to the wrong tonic. Ties go to no move."""
    shares = move_shares(seg, ref, chords, min_vocabulary_share)
    move = int(np.argmax(shares)) if shares is not None else 0
    if move == 0 or shares[move] < min_share:
        return None
    return moved_key(ref["key"], move)


def moved_key(key: str, semitones: int) -> str:
    tonic, mode = key.split()
    return f"{PITCH_CLASSES[(pitch_class(tonic) + semitones) % 12]} {mode}"


def move_shares(seg: dict, ref: dict, chords: list[dict], min_vocabulary_share: float = 0.03) -> np.ndarray | None:
    """For each move 0–11 semitones, the share of ``seg``'s chord time whose triads, moved back down, are among ``ref``'s
    own (those holding ``min_vocabulary_share`` of its time); None where either holds no chords."""
    ref_seconds, _ = _triad_seconds(chords, ref)
    ref_total = sum(ref_seconds.values())
    vocabulary = {k for k, v in ref_seconds.items() if v >= min_vocabulary_share * ref_total}
    seconds, total = _triad_seconds(chords, seg)
    if not vocabulary or not total:
        return None
    return np.array([sum(v for (pc, q), v in seconds.items() if ((pc - t) % 12, q) in vocabulary) / total for t in range(12)])


def transposed_tail(segs: list[dict], chords: list[dict], starts_sec: list[float], min_share: float, min_sec: float,
                    min_margin: float) -> list[dict]:
    """``segs`` with a last stretch split off where, from a section start on, the chords are those of the whole song before
    it moved whole: a key change too short for the key windows (a last chorus a step up in a fast song lasts 10–18 s). The
    stretch must last ``min_sec`` and lie in the last segment, and one move must map ``min_share`` of its chord time, by
    ``min_margin`` more than any other move (a vamp on one or two chords maps under several) and more than no move does;
    its first section must map by that move too, so a home-key section before the change is not taken along. The earliest
    such start wins. The chords before are the whole song's, not the last segment's: a bridge alone (ii–V–iii–vi) would
    make a verse on I–♭VII–IV look moved."""
    if not segs or not min_sec:
        return segs
    last = segs[-1]
    for start in sorted(t for t in starts_sec if last["start_sec"] + min_sec <= t <= last["end_sec"] - min_sec):
        ref, tail = {**last, "start_sec": segs[0]["start_sec"], "end_sec": start}, {**last, "start_sec": start}
        shares = move_shares(tail, ref, chords)
        if shares is None:
            continue
        move = int(np.argmax(shares))
        runner_up = np.sort(shares)[-2]
        if move == 0 or shares[move] < min_share or shares[move] - runner_up < min_margin:
            continue
        following = [t for t in starts_sec if t > start]
        first = {**tail, "end_sec": min(following)} if following else tail
        head = move_shares(first, ref, chords)
        if head is not None and int(np.argmax(head)) == move:
            return segs[:-1] + [{**last, "end_sec": start}, {**tail, "key": moved_key(last["key"], move)}]
    return segs


def _joined(segs: list[dict]) -> list[dict]:
    """Neighbouring key segments with the same key joined into one."""
    out: list[dict] = []
    for seg in segs:
        if out and out[-1]["key"] == seg["key"]:
            out[-1] = {**out[-1], "end_sec": seg["end_sec"]}
        else:
            out.append(dict(seg))
    return out


def key_offsets(key_segments: list[dict], key: str, times_sec) -> np.ndarray:
    """For each time, how many semitones its key segment's scale lies above ``key``'s (a minor key counted as its relative
    major: the same notes); 0 outside every segment."""
    def major_tonic(name: str) -> int:
        tonic, mode = name.split()
        return (pitch_class(tonic) + (3 if mode == "minor" else 0)) % 12

    home, times = major_tonic(key), np.asarray(times_sec)
    out = np.zeros(len(times), dtype=int)
    for seg in key_segments:
        out[(times >= seg["start_sec"]) & (times < seg["end_sec"])] = (major_tonic(seg["key"]) - home) % 12
    return out


def main_key_segment(segs: list[dict]) -> dict | None:
    """The key segment holding the most time (None without segments)."""
    return max(segs, key=lambda s: s["end_sec"] - s["start_sec"]) if segs else None


def applied_dominant(chord: dict, following: dict | None, tonic: int, mode: str) -> bool:
    """Whether ``chord`` is an applied (secondary) dominant in the key: a major triad or dominant seventh outside the key
    whose ``following`` chord is a triad of the key a fifth below it (E7 → Am in C major: V7/vi)."""
    if following is None or "N" in (chord["label"], following["label"]):
        return False
    root, quality, _ = parse_label(chord["label"])
    to_root, to_quality, _ = parse_label(following["label"])
    to_triad = _TRIAD_OF.get(to_quality)
    root_pc, to_pc = pitch_class(root), pitch_class(to_root)
    key = tonic + (12 if mode == "minor" else 0)
    return (quality in ("maj", "7") and not _IN_KEY[key, root_pc, 0] and (root_pc - to_pc) % 12 == 7
            and to_triad is not None and bool(_IN_KEY[key, to_pc, ("maj", "min").index(to_triad)]))


def segment_share(seg: dict, key: str, chords: list[dict], applied: bool = False) -> float:
    """Share of the chord time inside ``seg`` diatonic to ``key`` (``diatonic_share``); with ``applied``, applied dominants
    (``applied_dominant``: V7/V → V) count as the key's own."""
    played = [c for c in chords if c["label"] != "N"]
    tonic, mode = pitch_class(key.split()[0]), key.split()[1]
    inside = [(dict(c, start_sec=max(c["start_sec"], seg["start_sec"]), end_sec=min(c["end_sec"], seg["end_sec"])), nxt)
              for c, nxt in zip(played, played[1:] + [None]) if c["end_sec"] > seg["start_sec"] and c["start_sec"] < seg["end_sec"]]
    clipped = [c for c, _ in inside]
    # an applied dominant lies outside the key, so diatonic_share left it out: add its time
    extra = sum(c["end_sec"] - c["start_sec"] for c, nxt in inside if applied and applied_dominant(c, nxt, tonic, mode))
    total = sum(c["end_sec"] - c["start_sec"] for c in clipped)
    return diatonic_share(clipped, tonic, mode) + (extra / total if total else 0.0)


def fold_key_regions(segs: list[dict], chords: list[dict], min_diatonic: float, home_key: str | None = None,
                     min_gain: float = 0.0, applied_dominants: bool = False) -> list[dict]:
    """Join A–B–A key segments where B's chords are ``min_diatonic`` diatonic to A (see key_segments).
    With ``home_key``, a first or last segment next to one in the home key joins it on the same test: an
    intro or ending that the home key's chords explain (the relative minor's i–VI–III–VII loop in a major
    song) is no modulation; a real one (a last chorus a step up) leaves most chords outside.

    After the A–B–A joins and before those edge joins, when no segment is in ``home_key`` (an A–B–A join can
    remove the one that was), segments and song key disagree (the song's key is read from the whole song, its
    cadences and phrase starts): each segment whose key makes at most ``min_gain`` more of its chord time
    diatonic than the home key does becomes the home key (an A-major song with a ♭VII read as D major, then as
    F♯ minor: the same chords). Where the home key has a segment, a close key's lean is left to the chroma:
    applied to every segment, the rule cost Monteverdi's madrigals 0.014 of their numerals (BENCHMARKS.md).

    With ``applied_dominants``, the joins count an applied dominant (``applied_dominant``: V7/V → V, V/vi → vi) as the
    key's own: a bridge that tonicises vi or V through its dominant stays in the home key (music21 names it V/vi)."""

    def share(seg: dict, key: str, applied: bool = False) -> float:
        return segment_share(seg, key, chords, applied)

    def explained(seg: dict, key: str) -> bool:  # applied dominants (V7/V → V) tonicise inside the key
        return share(seg, key, applied_dominants) >= min_diatonic

    i = 1
    while i < len(segs) - 1:
        before, mid, after = segs[i - 1], segs[i], segs[i + 1]
        if before["key"] == after["key"] and explained(mid, before["key"]):
            segs[i - 1:i + 2] = [{**before, "end_sec": after["end_sec"]}]
        else:
            i += 1
    if home_key and min_gain > 0 and all(seg["key"] != home_key for seg in segs):
        segs = _joined([{**seg, "key": home_key} if share(seg, seg["key"]) - share(seg, home_key) <= min_gain else seg
                        for seg in segs])
    if home_key and len(segs) >= 2 and segs[0]["key"] != home_key and segs[1]["key"] == home_key and explained(segs[0], home_key):
        segs[0:2] = [{**segs[1], "start_sec": segs[0]["start_sec"]}]
    if home_key and len(segs) >= 2 and segs[-1]["key"] != home_key and segs[-2]["key"] == home_key and explained(segs[-1], home_key):
        segs[-2:] = [{**segs[-2], "end_sec": segs[-1]["end_sec"]}]
    return segs
