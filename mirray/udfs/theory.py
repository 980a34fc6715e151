"""Harmonic analysis on top of MIR chords and key: roman numerals (music21), functions, common
patterns, cadences, complexity. Plain dicts in and out; music21 is imported once per process."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from mirray.udfs.mir import DIATONIC, PITCH_CLASSES, parse_label, pitch_class

# Semitones above the tonic -> the interval that names that degree (b2, 2, b3, 3, 4, #4, 5, b6, 6, b7, 7).
DEGREE_INTERVALS = ("P1", "m2", "M2", "m3", "M3", "P4", "A4", "P5", "m6", "M6", "m7", "M7")
HARTE_BASS = {"b3": "m3", "3": "M3", "5": "P5", "b7": "m7", "7": "M7"}  # Harte bass degree -> interval above the root
INTERVALS = {"maj": ("M3", "P5"), "min": ("m3", "P5"), "7": ("M3", "P5", "m7"), "maj7": ("M3", "P5", "M7"), "min7": ("m3", "P5", "m7")}

# Semitones above the tonic that the key's scale holds (minor: natural and harmonic, so V7's leading tone is in).
SCALE_DEGREES = {"major": {0, 2, 4, 5, 7, 9, 11}, "minor": {0, 2, 3, 5, 7, 8, 10, 11}}

# Scale degree (semitones above the tonic) -> function, for diatonic triads.
FUNCTIONS = {
    "major": {0: "tonic", 9: "tonic_substitute", 4: "tonic_substitute", 5: "subdominant", 2: "subdominant", 7: "dominant", 11: "dominant"},
    "minor": {0: "tonic", 3: "tonic_substitute", 8: "tonic_substitute", 5: "subdominant", 2: "subdominant", 7: "dominant", 10: "subtonic"},
}

# Patterns over triad numerals (sevenths and inversions stripped), case-sensitive.
PATTERNS = {
    "I-V-vi-IV": ["I", "V", "vi", "IV"],
    "vi-IV-I-V": ["vi", "IV", "I", "V"],
    "I-vi-IV-V": ["I", "vi", "IV", "V"],
    "I-IV-V": ["I", "IV", "V"],
    "ii-V-I": ["ii", "V", "I"],
    "i-VII-VI-V (Andalusian)": ["i", "VII", "VI", "V"],
    "i-VI-III-VII": ["i", "VI", "III", "VII"],
    "I-V-IV": ["I", "V", "IV"],
}
TWELVE_BAR_BLUES = ["I", "I", "I", "I", "IV", "IV", "I", "I", "V", "IV", "I", "I"]
TWELVE_BAR_VARIANTS = (TWELVE_BAR_BLUES, TWELVE_BAR_BLUES[:11] + ["V"])  # with the turnaround V in bar 12


def roman_figure(label: str, tonic: str, mode: str, secondary: bool = False) -> str | None:
    """music21's roman numeral figure of a Harte label in a key, e.g. ("E:7", "A", "major") -> "V7",
    ("C:maj/3", "C", "major") -> "I6"; with ``secondary``, named as an applied dominant ("V7/V")."""
    if label == "N" or ":" not in label:
        return None
    root, rest = label.split(":", 1)
    # a figure depends on the root's distance from the tonic, not on the key: one cache entry serves all 12 keys
    return _figure_in_c(f"{PITCH_CLASSES[(pitch_class(root) - pitch_class(tonic)) % 12]}:{rest}", mode, secondary)


@lru_cache(maxsize=4096)
def _figure_in_c(label: str, mode: str, secondary: bool) -> str | None:
    """``roman_figure`` of a (non-"N") label in C major or C minor (music21 builds the chord, ~20 ms cold)."""
    from music21 import chord, key, pitch, roman

    root, quality, bass_degree = parse_label(label)
    if quality not in INTERVALS:  # outside the chord stage's vocabulary (dim, aug, sus): no figure rather than a guess
        return None
    # spell the root as a degree of the key (Db in Ab major, not the label's C#), then the chord from the root
    root_pitch = pitch.Pitch("C3").transpose(DEGREE_INTERVALS[pitch_class(root)])
    pitches = [root_pitch] + [root_pitch.transpose(iv) for iv in INTERVALS[quality]]
    if bass_degree in HARTE_BASS:  # an inversion: that chord tone an octave below the rest
        bass = root_pitch.transpose(HARTE_BASS[bass_degree]).transpose("-P8")
        pitches = [bass] + [p for p in pitches if p.pitchClass != bass.pitchClass]
    the_chord, the_key = chord.Chord(pitches), key.Key("C", mode)
    figure = roman.romanNumeralFromChord(the_chord, the_key, preferSecondaryDominants=secondary).figure
    return _plain_figure(figure, the_chord, the_key)


_FIGURE = re.compile(r"^([b#]*)([IViv]+)([o+ø]?)([^/]*)(/.*)?$")
_INVERSION_FIGURES = {3: ("", "6", "64"), 4: ("7", "65", "43", "42")}


def _plain_figure(figure: str, the_chord, the_key) -> str:
    """The textbook spelling of music21's figure when it names the same chord: "V7" for its "V75#3" (V7 in
    minor), "VII" / "VI" for "bVII" / "bVI" in minor (the natural-minor degrees, as RomanText analyses and
    theory texts write them). The accidental stays where it is needed (bVII in major, bIII). Music21's own figure
    is kept when no candidate names the same pitch classes over the same bass; each candidate, music21's own
    spelling too, is parsed back and checked (music21 names F#maj7 in C major "#IV7", which it parses as F#7)."""
    from music21 import roman

    match = _FIGURE.match(figure)
    pitch_classes = {p.pitchClass for p in the_chord.pitches}
    if not match or len(pitch_classes) not in _INVERSION_FIGURES:
        return figure
    accidental, numeral, quality_mark, _, applied = match.groups()
    inversion = the_chord.inversion()
    if inversion >= len(_INVERSION_FIGURES[len(pitch_classes)]):
        return figure
    inversion_figure = _INVERSION_FIGURES[len(pitch_classes)][inversion]
    # a root-position seventh outside the key keeps only its seventh's accidental: "IVb7" (F7 in C major) for
    # music21's "IVb753", "V#7" (Gmaj7 in C) for "V#753"; a chromatic root gets its own: "#VI6", not "VI#63"
    sevenths = ("b7", "#7") if inversion_figure == "7" else ()
    for prefix in dict.fromkeys(("", accidental, "b", "#")):
        for inverted in (inversion_figure,) + sevenths:
            candidate = prefix + numeral + quality_mark + inverted + (applied or "")
            spelled = roman.RomanNumeral(candidate, the_key)
            if {p.pitchClass for p in spelled.pitches} == pitch_classes and spelled.bass().pitchClass == the_chord.bass().pitchClass:
                return candidate
    return figure


def _triad_numeral(figure: str) -> str:
    """'V7' -> 'V', 'bVII' -> 'VII', 'viio' -> 'vii', 'V7/V' -> 'V/V' (for pattern matching)."""
    if "/" in figure:
        return "/".join(_triad_numeral(part) for part in figure.split("/"))
    core = figure.lstrip("b#")
    return "".join(ch for ch in core if ch in "IViv")


def function_of(label: str, tonic: str, mode: str) -> str:
    """tonic | tonic_substitute | subdominant | dominant | subtonic | secondary_dominant | borrowed | chromatic | none."""
    if label == "N":
        return "none"
    root, quality, _ = parse_label(label)
    degree = (pitch_class(root) - pitch_class(tonic)) % 12
    triad = "min" if quality.startswith("min") else "maj"
    # V/x: a major chord a fifth above a diatonic chord other than the tonic. A plain triad that the
    # parallel mode owns (I in minor, IV in minor, bVI in major) reads as borrowed first; a dominant
    # seventh reads as applied first (its tritone points at the target), also on a diatonic triad whose
    # seventh leaves the scale (I7 with a b7 in major is V7/IV, III7 in minor is V7/VI).
    target = (degree + 5) % 12
    applied = triad == "maj" and quality in ("maj", "7") and target != 0 and target in DIATONIC[mode]
    if triad in DIATONIC[mode].get(degree, ()):
        if applied and quality == "7" and (degree + 10) % 12 not in SCALE_DEGREES[mode]:
            return "secondary_dominant"
        return FUNCTIONS[mode].get(degree, "chromatic")
    parallel = "minor" if mode == "major" else "major"
    borrowed = triad in DIATONIC[parallel].get(degree, ())
    if applied and (quality == "7" or not borrowed):
        return "secondary_dominant"
    if borrowed:
        return "borrowed"
    return "chromatic"


def _merge(chords: list[dict]) -> list[dict]:
    out: list[dict] = []
    for c in chords:
        if c["label"] == "N":
            continue
        if out and out[-1]["label"] == c["label"]:
            out[-1] = {**out[-1], "end_sec": c["end_sec"]}
        else:
            out.append(dict(c))
    return out


def find_patterns(numerals: list[str], times: list[float]) -> list[dict]:
    """Each pattern with its count and start times (non-overlapping occurrences)."""
    found = []
    for name, pat in PATTERNS.items():
        starts, i = [], 0
        while i + len(pat) <= len(numerals):
            if numerals[i:i + len(pat)] == pat:
                starts.append(round(times[i], 2))
                i += len(pat)
            else:
                i += 1
        if starts:
            found.append({"pattern": name, "count": len(starts), "times_sec": starts})
    return found


def circle_of_fifths_runs(chords: list[dict], min_len: int = 4) -> list[dict]:
    """Runs of at least ``min_len`` chords whose roots fall by a fifth (up a fourth) each step."""
    runs, start = [], 0
    roots = [pitch_class(parse_label(c["label"])[0]) for c in chords]
    for i in range(1, len(roots) + 1):
        if i == len(roots) or (roots[i] - roots[i - 1]) % 12 != 5:
            if i - start >= min_len:
                runs.append({"pattern": "circle-of-fifths", "count": 1, "times_sec": [round(chords[start]["start_sec"], 2)]})
            start = i
    return runs


def twelve_bar_blues_starts(downbeats: list[float], numerals_at) -> list[float]:
    """Start times (s) of each 12-bar blues chorus: 12 consecutive bars following I I I I IV IV I I V IV I I (bar 12
    may be the turnaround V), by the chord at each downbeat; choruses do not overlap. ``numerals_at`` must give plain
    numerals: a blues I7 is "I", not "V/IV"."""
    bars = [numerals_at(t) for t in downbeats]
    starts, i = [], 0
    while i + 12 <= len(bars):
        if bars[i:i + 12] in TWELVE_BAR_VARIANTS:
            starts.append(round(float(downbeats[i]), 2))
            i += 12
        else:
            i += 1
    return starts


def cadences(chords: list[dict], tonic: str, mode: str, downbeats: list[float], phrase_ends: list[float], bar_sec: float,
             keys: list[tuple[str, str]] | None = None) -> list[dict]:
    """Cadences at chord changes: authentic (V→I), plagal (IV→I), deceptive (V→vi/VI), half (→V at a phrase end).

    strength in 0..1 = harmonic weight × metric weight (arrival on a downbeat) × length weight
    (arrival held ≥ a bar) × phrase weight (within a bar of a section boundary). ``keys``: each chord's
    (tonic, mode) where the key moves; a cadence is read in its arrival chord's key (the V before a
    modulation's first tonic belongs to the new key).
    """
    base = {"authentic": 1.0, "plagal": 0.75, "deceptive": 0.65, "half": 0.6}
    out = []
    keys = keys or [(tonic, mode)] * len(chords)

    def num(j: int, key: tuple[str, str]) -> str | None:
        return _triad_numeral(roman_figure(chords[j]["label"], *key) or "") if 0 <= j < len(chords) else None

    for i in range(1, len(chords)):
        key = keys[i]
        cur, p, c, nxt = chords[i], num(i - 1, key), num(i, key), num(i + 1, key)
        tonic_num = "I" if key[1] == "major" else "i"
        kind = None
        if p == "V" and c == tonic_num:
            kind = "authentic"
        elif p in ("IV", "iv") and c == tonic_num:
            kind = "plagal"
        elif p == "V" and c in ("vi", "VI"):
            kind = "deceptive"
        t = cur["start_sec"]
        near_end = any(abs(t - e) <= bar_sec or abs(cur["end_sec"] - e) <= bar_sec for e in phrase_ends)
        if kind is None and c == "V" and nxt not in (tonic_num, "vi", "VI") and near_end and cur["end_sec"] - t >= 0.9 * bar_sec:
            kind = "half"  # the phrase stops on V instead of resolving
        if kind is None:
            continue
        on_downbeat = any(abs(t - d) <= 0.12 for d in downbeats) if downbeats else False
        held = (cur["end_sec"] - cur["start_sec"]) >= 0.9 * bar_sec
        strength = base[kind] * (1.0 if on_downbeat else 0.7) * (1.0 if held else 0.8) * (1.0 if near_end else 0.85)
        out.append({"type": kind, "time_sec": round(t, 3), "strength": round(strength, 3)})
    return out


def complexity(labels: list[str], non_diatonic_share: float) -> float:
    """0..1: mean of normalised bigram entropy, vocabulary size (saturating at 12 chords) and non-diatonic share."""
    if len(labels) < 2:
        return 0.0
    bigrams = Counter(zip(labels, labels[1:]))
    n = sum(bigrams.values())
    entropy = -sum(c / n * math.log2(c / n) for c in bigrams.values())
    vocab = len(set(labels))
    max_entropy = math.log2(max(2, vocab * vocab))
    return round(((entropy / max_entropy) + min(1.0, (vocab - 1) / 11) + non_diatonic_share) / 3, 4)


def local_key(chord: dict, key_segments: list[dict], default: tuple[str, str]) -> tuple[str, str]:
    """(tonic, mode) of the key segment holding the chord's middle; ``default`` (the song's key) outside any."""
    mid = (chord["start_sec"] + chord["end_sec"]) / 2
    seg = next((s for s in key_segments if s["start_sec"] <= mid < s["end_sec"] and s.get("key")), None)
    return tuple(seg["key"].split()) if seg else default


def harmonic_analysis(chords: list[dict], key_tonic: str | None, key_mode: str | None, downbeats: list[float],
                      sections: list[dict], tempo_bpm: float | None, beats_per_bar: int | None,
                      key_segments: list[dict] = ()) -> dict:
    """The seed's harmonic_analysis block, plus per-chord detail. Chords: [{"start_sec", "end_sec", "label"}].
    Each chord is read in its local key (``key_segments``, [{"start_sec", "end_sec", "key": "A minor"}];
    the song's key where there are none), listed in ``chord_keys``."""
    empty = {"roman_numerals": [], "functional_harmony": [], "common_patterns": [], "cadences": [],
             "progression_complexity": 0.0, "harmonic_rhythm_changes_per_bar": None,
             "secondary_dominants": [], "borrowed_chords": [], "chord_times_sec": [], "chord_keys": [], "modulations": []}
    merged = _merge(chords)
    if not merged or not key_tonic or not key_mode:
        return empty
    keys = [local_key(c, key_segments, (key_tonic, key_mode)) for c in merged]
    funcs = [function_of(c["label"], *k) for c, k in zip(merged, keys)]
    figures = [roman_figure(c["label"], *k, f == "secondary_dominant") for c, k, f in zip(merged, keys, funcs)]
    numerals = [_triad_numeral(f or "") for f in figures]
    times = [c["start_sec"] for c in merged]
    bar_sec = (60.0 / tempo_bpm) * (beats_per_bar or 4) if tempo_bpm else 2.0

    plain = [_triad_numeral(roman_figure(c["label"], *k) or "") for c, k in zip(merged, keys)]  # C7 in C: "I"

    def numeral_at(t: float) -> str | None:
        return next((n for c, n in zip(merged, plain) if c["start_sec"] - 0.15 <= t < c["end_sec"]), None)

    patterns = find_patterns(numerals, times) + circle_of_fifths_runs(merged)
    blues_starts = twelve_bar_blues_starts(downbeats, numeral_at) if downbeats else []
    if blues_starts:
        patterns.append({"pattern": "12-bar blues", "count": len(blues_starts), "times_sec": blues_starts})
    phrase_ends = [s["end_sec"] for s in sections[:-1]] + ([merged[-1]["end_sec"]] if merged else [])
    non_diatonic = [f not in ("tonic", "tonic_substitute", "subdominant", "dominant", "subtonic") for f in funcs]
    duration = merged[-1]["end_sec"] - merged[0]["start_sec"]
    return {
        "roman_numerals": figures,
        "functional_harmony": funcs,
        "common_patterns": patterns,
        "cadences": cadences(merged, key_tonic, key_mode, downbeats, phrase_ends, bar_sec, keys),
        "progression_complexity": complexity([c["label"] for c in merged], sum(non_diatonic) / len(merged)),
        "harmonic_rhythm_changes_per_bar": round((len(merged) - 1) / max(duration / bar_sec, 1e-9), 3),
        "secondary_dominants": [{"figure": f, "time_sec": round(t, 2)} for f, fn, t in zip(figures, funcs, times) if fn == "secondary_dominant"],
        "borrowed_chords": [{"figure": f, "time_sec": round(t, 2)} for f, fn, t in zip(figures, funcs, times) if fn == "borrowed"],
        "chord_times_sec": [round(t, 3) for t in times],
        "chord_keys": [f"{t} {m}" for t, m in keys],
        "modulations": [{"time_sec": round(b["start_sec"], 2), "from_key": a["key"], "to_key": b["key"]}
                        for a, b in zip(key_segments, key_segments[1:])],
    }
