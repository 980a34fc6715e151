"""Multitrack songs played by General MIDI instruments (pretty_midi + fluidsynth), with ground truth.

Made differently from ``synth``: sampled instruments from a GM soundfont, humanised timing and
velocity, roman-numeral progressions (sevenths, secondary dominants, borrowed chords) voiced with
music21, half-bar chord changes, comping/bass/drum patterns per style, swing, and song forms whose
repeated sections repeat their melody. Each stem is rendered alone, so the mix is exactly the sum of
the four true stems. Needs the ``fluidsynth`` binary and a GM soundfont (see ENVIRONMENT notes).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from mirray.udfs.chords import BASS_DEGREES
from mirray.udfs.mir import PITCH_CLASSES

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")

# Progressions in roman numerals; "|" splits a bar into two half-bar chords.
PROGRESSIONS = {
    "major": {
        "verse": [["I", "vi", "IV", "V"], ["I", "IV", "I", "V7"], ["Imaj7", "vi7", "ii7", "V7"], ["I", "iii", "IV", "V"],
                  ["I", "bVII", "IV", "I"]],
        "chorus": [["IV", "V", "I", "vi"], ["I", "V", "vi", "IV"], ["vi", "IV", "I", "V"], ["I", "V7/vi", "vi", "IV|V"],
                   ["IV", "iv", "I", "V7"]],
        "bridge": [["vi", "V7/V", "V", "V7"], ["bVI", "bVII", "I", "I"], ["ii7", "V7", "iii7", "vi7"], ["IV", "V/vi", "vi", "V"]],
    },
    "minor": {
        "verse": [["i", "VI", "III", "VII"], ["i", "iv", "V7", "i"], ["i", "VII", "VI", "V"], ["i", "iv7", "VII7", "IIImaj7"]],
        "chorus": [["VI", "VII", "i", "i"], ["i", "VI", "III", "VII"], ["iv", "V", "i", "VI|V7"], ["VI", "III", "VII", "i"]],
        "bridge": [["iv", "V7", "i", "VI"], ["VI", "iv", "V7", "V7"], ["III", "VII", "iv", "V"]],
    },
}

# (label, bars, progression family, parts); "lead" = instrumental melody (played into "other").
FORMS = {
    "verse_chorus": (("intro", 4, "verse", ("other",)), ("verse", 8, "verse", ("drums", "bass", "other", "vocals")),
                     ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")), ("verse", 8, "verse", ("drums", "bass", "other", "vocals")),
                     ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")), ("bridge", 8, "bridge", ("bass", "other", "vocals")),
                     ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")), ("outro", 4, "verse", ("bass", "other"))),
    "with_solo": (("intro", 4, "chorus", ("drums", "bass", "other")), ("verse", 8, "verse", ("drums", "bass", "other", "vocals")),
                  ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")), ("instrumental", 8, "verse", ("drums", "bass", "other", "lead")),
                  ("verse", 8, "verse", ("drums", "bass", "other", "vocals")), ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")),
                  ("chorus", 8, "chorus", ("drums", "bass", "other", "vocals")), ("outro", 4, "chorus", ("drums", "other"))),
    "aaba": (("intro", 2, "verse", ("bass", "other")), ("verse", 8, "verse", ("drums", "bass", "other", "vocals")),
             ("verse", 8, "verse", ("drums", "bass", "other", "vocals")), ("bridge", 8, "bridge", ("drums", "bass", "other", "vocals")),
             ("verse", 8, "verse", ("drums", "bass", "other", "vocals")), ("outro", 4, "verse", ("bass", "other"))),
}

FORMS["blues"] = (("intro", 4, "turnaround", ("drums", "bass", "other")),
                  *(("verse", 12, "verse", ("drums", "bass", "other", "vocals")),) * 2,
                  ("instrumental", 12, "verse", ("drums", "bass", "other", "lead")),
                  ("verse", 12, "verse", ("drums", "bass", "other", "vocals")), ("outro", 4, "turnaround", ("drums", "bass", "other")))
FORMS["chorale"] = tuple((lab, 8, fam, ("bass", "other", "vocals")) for lab, fam in
                         (("verse", "verse"), ("verse", "verse"), ("chorus", "chorus"), ("verse", "verse"), ("chorus", "chorus")))

# GM programs (0-based): chords, bass, voice, lead.
CHORD_PROGRAMS = (0, 4, 16, 24, 25, 27, 48, 89, 61)
BASS_PROGRAMS = (32, 33, 34, 38)
VOICE_PROGRAMS = (52, 53, 54, 85)
LEAD_PROGRAMS = (65, 73, 80, 56)
KICK, SNARE, CLOSED_HAT, OPEN_HAT, PEDAL_HAT, RIDE, CRASH = 36, 38, 42, 46, 44, 51, 49


@dataclass(frozen=True)
class SongSpec:
    tonic: str = "C"
    mode: str = "major"
    tempo_bpm: float = 120.0
    beats_per_bar: int = 4       # 4 → 4/4, 3 → 3/4, 6 → 6/8 (tempo_bpm then counts dotted quarters)
    form: str = "verse_chorus"
    style: str = "rock"          # rock | dance | swing | ballad | hiphop | waltz (3/4 songs are waltzes)
    swing_ratio: float = 1.0     # long:short eighth ratio; 2.0 = triplet swing
    seed: int = 0
    soundfont: str = SOUNDFONTS[0]
    bars: int | None = None      # cut the form after this many bars (short clips for tests)
    progressions: tuple = ()     # ((family, (numeral, …)), …): fixed progressions instead of random ones
    programs: tuple = ()         # ((part, GM program), …): fixed instruments instead of random ones
    vocals: bool = True          # False: the melody is an instrument (into "other"), no vocal stem
    genre: str | None = None     # label of a genre-styled song (gm_genres); not used when composing
    tempo_drift: float = 0.0     # std of a slow tempo wander (0.03: ±3 %), a band playing without a click; 0: steady
    section_crash: bool = True   # a crash cymbal on each section's first downbeat; False: sections marked by harmony and
                                 # texture alone (the same notes and timing otherwise), to measure what the crash cue adds
    bars_per_chord: int = 1      # harmonic rhythm: each progression cell held this many bars (2: a 4-chord loop fills 8 bars;
                                 # a split cell "IV|V" then gives each chord half of them), restruck every bar
    section_scale: int = 1       # every section this many times its form's length (2: 16-bar verses and choruses)
    modulation_semitones: int = 0  # the last chorus (last verse in a form without one) and what follows played this many
                                   # semitones up: pop's key change for the final chorus (+1, +2); truth["key_segments"] says where


def _chord_pitches(numeral: str, key: str) -> tuple[list[int], str]:
    """MIDI-free pitch classes (the bass first: the root unless the numeral is inverted, "V6") and the
    Harte label of a roman numeral in ``key`` ("G:maj/3")."""
    from music21 import roman

    rn = roman.RomanNumeral(numeral, key)
    root = rn.root().pitchClass
    pcs = sorted({(p.pitchClass - root) % 12 for p in rn.pitches})
    quality = {(0, 4, 7): "maj", (0, 3, 7): "min", (0, 4, 7, 10): "7", (0, 4, 7, 11): "maj7", (0, 3, 7, 10): "min7",
               (0, 3, 6): "dim", (0, 3, 6, 10): "hdim7"}[tuple(pcs)]
    bass = (rn.bass().pitchClass - root) % 12
    tones = [root + bass] + [root + iv for iv in pcs if iv != bass]
    label = f"{PITCH_CLASSES[root]}:{quality}" + (f"/{ {**BASS_DEGREES, 6: 'b5'}[bass]}" if bass else "")  # b5: dim chords
    return tones, label


def _voicing(pcs: list[int], centre: int = 62) -> list[int]:
    """Close voicing of the chord's pitch classes nearest to ``centre`` (smooth voice leading for free)."""
    return sorted(centre - 6 + ((pc - (centre - 6)) % 12) for pc in pcs)


def modulation_start(form: tuple) -> int:
    """Index of the section a final-chorus key change starts at: the last chorus, else the last verse."""
    labels = [sec[0] for sec in form]
    return max(i for i, lab in enumerate(labels) if lab == ("chorus" if "chorus" in labels else "verse"))


def _music21_key(tonic: str, mode: str) -> str:
    name = tonic.replace("b", "-") if len(tonic) == 2 and tonic[1] == "b" else tonic
    return name if mode == "major" else name.lower()


def compose(spec: SongSpec):
    """(pretty_midi objects per stem, truth). Truth times are the metrical grid (annotation), notes are humanised."""
    import pretty_midi

    rng = np.random.default_rng(spec.seed)
    compound = spec.beats_per_bar == 6
    beat_sec = 60.0 / spec.tempo_bpm / (3 if compound else 1)  # composing unit: the eighth in 6/8, else the beat
    bpb = spec.beats_per_bar
    bar_sec = beat_sec * bpb
    lead_in_sec = float(rng.uniform(0.1, 0.6))  # songs rarely start exactly on sample 0
    families = PROGRESSIONS[spec.mode]
    chosen = {fam: families[fam][int(rng.integers(len(families[fam])))] for fam in families}
    chosen.update({fam: list(prog) for fam, prog in spec.progressions})
    form = FORMS[spec.form]
    if not spec.vocals:
        form = tuple((lab, n, fam, tuple("lead" if p == "vocals" else p for p in parts)) for lab, n, fam, parts in form)
    style = "six_eight" if compound else spec.style if bpb == 4 or spec.style in ("chorale", "country") else "waltz"
    programs = {"other": int(rng.choice(CHORD_PROGRAMS)), "bass": int(rng.choice(BASS_PROGRAMS)),
                "vocals": int(rng.choice(VOICE_PROGRAMS)), "lead": int(rng.choice(LEAD_PROGRAMS))}
    programs.update(dict(spec.programs))
    insts = {"drums": pretty_midi.Instrument(0, is_drum=True, name="drums"),
             "bass": pretty_midi.Instrument(programs["bass"], name="bass"),
             "other": pretty_midi.Instrument(programs["other"], name="chords"),
             "lead": pretty_midi.Instrument(programs["lead"], name="lead"),
             "vocals": pretty_midi.Instrument(programs["vocals"], name="vocals")}
    motifs: dict[str, list] = {}

    def t_of(bar: int, beat: float) -> float:
        whole, frac = divmod(beat, 1.0)
        if spec.swing_ratio != 1.0 and abs(frac - 0.5) < 1e-6:  # swung off-beat eighth
            frac = spec.swing_ratio / (1 + spec.swing_ratio)
        return lead_in_sec + bar * bar_sec + (whole + frac) * beat_sec

    def note(part: str, pitch: int, start: float, dur: float, vel: int) -> None:
        jitter = float(rng.normal(0, 0.006))
        s = max(0.0, start + jitter)
        v = int(np.clip(vel + rng.normal(0, 6), 20, 127))
        insts[part].notes.append(pretty_midi.Note(velocity=v, pitch=int(pitch), start=s, end=s + max(0.05, dur)))

    chords, sections, bar = [], [], 0
    form = tuple((lab, n * spec.section_scale, fam, parts) for lab, n, fam, parts in form)
    total_bars = sum(b for _, b, _, _ in form)
    limit = spec.bars or total_bars
    mod_from = modulation_start(form) if spec.modulation_semitones else len(form)
    key_segments = [(0.0, None, f"{spec.tonic} {spec.mode}")]  # (start, end, key) in seconds from the first bar
    for si, (label, n_bars, family, parts) in enumerate(form):
        if bar >= limit:
            break
        sec_start = bar
        tonic = spec.tonic if si < mod_from else PITCH_CLASSES[(PITCH_CLASSES.index(spec.tonic) + spec.modulation_semitones) % 12]
        key = _music21_key(tonic, spec.mode)
        if si == mod_from:
            key_segments.append((bar * bar_sec, None, f"{tonic} {spec.mode}"))
        prog = chosen[family]
        for b in range(n_bars):
            if bar >= limit:
                break
            cells = _bar_cells(prog, b, spec.bars_per_chord)
            beats_each = bpb / len(cells)
            for c, numeral in enumerate(cells):
                pcs, harte = _chord_pitches(numeral, key)
                c0 = c * beats_each
                if spec.bars_per_chord == 1 or b % spec.bars_per_chord == 0 or chords[-1][1] != numeral:  # else: held on
                    chords.append((t_of(bar, c0) - lead_in_sec, numeral, harte, beats_each))
                _play_chord(note, t_of, bar, c0, beats_each, pcs, style, parts, beat_sec, rng)
            if "drums" in parts:
                _play_drums(note, t_of, bar, bpb, style, b == 0 and sec_start > 0)
            if "vocals" in parts or "lead" in parts:
                motif = motifs.setdefault(f"{label}:{b % 4}", _motif(rng, bpb))
                melody_part = "vocals" if "vocals" in parts else "lead"
                scale = _scale(PITCH_CLASSES.index(tonic), spec.mode)
                for beat, dur, degree_choice in motif:
                    pcs, _ = _chord_pitches(cells[min(int(beat // beats_each), len(cells) - 1)], key)  # the chord under the note
                    at_chord_onset = beat % beats_each == 0
                    pitch = _melody_pitch(pcs, scale, degree_choice, 67 if melody_part == "vocals" else 72, at_chord_onset)
                    if not at_chord_onset and degree_choice < 0:  # a non-chord tone resolves within a beat
                        dur = min(dur, 1.0 if beat % 1 == 0 else 0.5)
                    note(melody_part, pitch, t_of(bar, beat), dur * beat_sec * 0.95, 92)
            bar += 1
        sections.append((sec_start * bar_sec, bar * bar_sec, label))
    insts["other"].notes.extend(insts.pop("lead").notes)  # an instrumental solo belongs to "other", not vocals
    if not spec.section_crash:  # dropped after composing: every other note keeps its random jitter
        insts["drums"].notes = [n for n in insts["drums"].notes if n.pitch != CRASH]
    end_sec = lead_in_sec + bar * bar_sec
    truth_chords = []
    for i, (t0, numeral, harte, _) in enumerate(chords):
        t1 = chords[i + 1][0] if i + 1 < len(chords) else bar * bar_sec
        truth_chords.append((lead_in_sec + t0, lead_in_sec + t1, harte))
    pulse = 3 if compound else 1  # 6/8 is counted in two dotted-quarter beats
    beats = lead_in_sec + np.arange(bar * bpb // pulse) * beat_sec * pulse
    truth = {
        "tempo_bpm": float(spec.tempo_bpm),
        "beat_times_sec": beats.tolist(),
        "downbeat_times_sec": beats[::bpb // pulse].tolist(),
        "key": f"{spec.tonic} {spec.mode}",
        "beats_per_bar": bpb // pulse,
        "time_signature": "6/8" if compound else f"{bpb}/4",
        "chords": truth_chords,
        # where the key holds (one segment without ``modulation_semitones``); the numerals are in each segment's key
        "key_segments": [(lead_in_sec + a, lead_in_sec + (key_segments[i + 1][0] if i + 1 < len(key_segments) else bar * bar_sec), k)
                         for i, (a, _, k) in enumerate(key_segments)],
        "roman_numerals": [c[1] for c in chords],
        "sections": [(lead_in_sec + a, lead_in_sec + b, lab) for a, b, lab in sections],
        "programs": programs,
        "style": style,
        "swing_ratio": spec.swing_ratio,
        "soundfont": Path(spec.soundfont).name,
        "end_sec": end_sec,
    }
    if spec.tempo_drift:
        _drift(insts, truth, spec.tempo_drift, beat_sec, np.random.default_rng(spec.seed + 7))
    return insts, truth


def _drift(insts: dict, truth: dict, drift: float, beat_sec: float, rng, wander_sec: float = 4.0) -> None:
    """Move every note and truth time (in place) by one smooth time warp: the tempo wanders around its
    nominal value as a log-normal factor with std ``drift``, correlated over ``wander_sec`` (a band
    pushing a chorus, settling in a verse). The notes stay the same; only when they sound moves, so
    the truth is still exact (``retime_truth``)."""
    from scipy.ndimage import gaussian_filter1d

    n_knots = int(truth["end_sec"] / beat_sec) + 64
    wander = gaussian_filter1d(rng.normal(size=n_knots), wander_sec / beat_sec, mode="wrap")
    rate = np.exp(drift * wander / wander.std())  # seconds played per second written
    written = np.arange(n_knots + 1) * beat_sec
    played = np.concatenate([[0.0], np.cumsum(rate * beat_sec)])
    warp = lambda t: np.interp(t, written, played)  # noqa: E731
    for inst in insts.values():
        for n in inst.notes:
            n.start, n.end = float(warp(n.start)), float(warp(n.end))
    truth.update(retime_truth(truth, warp), tempo_drift=drift)


def retime_truth(truth: dict, warp) -> dict:
    """``truth`` with every time passed through ``warp`` (seconds → seconds, increasing, vectorised): beats,
    downbeats, chord and section bounds, the end; ``tempo_bpm`` from the median of the new beat periods."""
    beats = warp(np.asarray(truth["beat_times_sec"], dtype=np.float64))
    return {**truth, "beat_times_sec": beats.tolist(),
            "downbeat_times_sec": warp(np.asarray(truth["downbeat_times_sec"], dtype=np.float64)).tolist(),
            "chords": [(float(warp(a)), float(warp(b)), lab) for a, b, lab in truth["chords"]],
            "sections": [(float(warp(a)), float(warp(b)), lab) for a, b, lab in truth["sections"]],
            **({"key_segments": [(float(warp(a)), float(warp(b)), k) for a, b, k in truth["key_segments"]]} if "key_segments" in truth else {}),
            "end_sec": float(warp(truth["end_sec"])), "tempo_bpm": float(60.0 / np.median(np.diff(beats)))}


def _bar_cells(prog: list[str], bar_in_section: int, bars_per_chord: int) -> list[str]:
    """The chords of one bar: the progression cell it falls in, split at "|" into half-bar chords; a split cell held
    over several bars gives each of its chords whole bars instead."""
    cell = prog[(bar_in_section // bars_per_chord) % len(prog)].split("|")
    if bars_per_chord == 1 or len(cell) == 1:
        return cell
    return [cell[min(len(cell) - 1, (bar_in_section % bars_per_chord) * len(cell) // bars_per_chord)]]


def _scale(tonic_pc: int, mode: str) -> list[int]:
    steps = (0, 2, 4, 5, 7, 9, 11) if mode == "major" else (0, 2, 3, 5, 7, 8, 10)
    return [(tonic_pc + s) % 12 for s in steps]


def _motif(rng, bpb: int) -> list[tuple[float, float, int]]:
    """One bar of melody rhythm: (beat, length in beats, pitch choice); pitch choice < 0 = non-chord tone."""
    slots = list(np.arange(0.0, bpb, 1.0 if bpb == 6 else 0.5))  # eighths (in 6/8 the unit already is one)
    onsets = sorted({0.0, *[s for s in slots if rng.random() < 0.45]})
    out = []
    for i, beat in enumerate(onsets):
        nxt = onsets[i + 1] if i + 1 < len(onsets) else float(bpb)
        out.append((beat, nxt - beat, int(rng.integers(-2, 4))))
    return out


def _melody_pitch(chord_pcs: list[int], scale: list[int], choice: int, centre: int, chord_onset: bool = True) -> int:
    """A chord tone (choice >= 0, and always where the chord starts), else the scale step above (-1) or
    below (-2) a chord tone: a passing or neighbour tone. Placed near ``centre``."""
    tone = chord_pcs[abs(choice) % len(chord_pcs)] % 12
    if choice >= 0 or chord_onset:
        pc = tone
    elif choice == -1:
        pc = min(scale, key=lambda p: (p - tone - 1) % 12)  # next scale tone above
    else:
        pc = min(scale, key=lambda p: (tone - p - 1) % 12)  # next scale tone below
    return centre - 5 + ((pc - (centre - 5)) % 12)


def _play_chord(note, t_of, bar, beat0, beats, pcs, style, parts, beat_sec, rng) -> None:
    voicing = _voicing(pcs)
    if "other" in parts:
        if style == "six_eight":  # broken chord in eighths over every chord tone, accents on the two dotted-quarter beats
            for k in range(int(beats)):
                note("other", voicing[(0, 1, 2, 3, 2, 1)[k % 6] % len(voicing)], t_of(bar, beat0 + k), beat_sec * 0.95,
                     74 if k % 3 == 0 else 58)
        elif style in ("ballad", "waltz", "chorale") or beats < 2:
            for p in voicing:
                note("other", p, t_of(bar, beat0), beats * beat_sec * 0.95, 70)
            if style == "waltz":
                for k in range(1, int(beats)):
                    for p in voicing:
                        note("other", p, t_of(bar, beat0 + k), beat_sec * 0.6, 55)
        elif style in ("rock", "hiphop"):
            for k in np.arange(0, beats, 0.5):  # eighth-note strum
                for p in voicing:
                    note("other", p, t_of(bar, beat0 + k), beat_sec * 0.45, 75 if k % 1 == 0 else 60)
        elif style == "country":  # the "chick" of boom-chick: strums on 2 and 4
            for k in np.arange(1, beats, 2.0):
                for p in voicing:
                    note("other", p, t_of(bar, beat0 + k), beat_sec * 0.5, 72)
        elif style == "dance":
            for k in np.arange(0.5, beats, 1.0):  # off-beat stabs
                for p in voicing:
                    note("other", p, t_of(bar, beat0 + k), beat_sec * 0.3, 72)
            for p in voicing:
                note("other", p, t_of(bar, beat0), beats * beat_sec * 0.95, 45)
        else:  # swing comping: arpeggio
            for i, k in enumerate(np.arange(0, beats, 0.5)):
                note("other", voicing[i % len(voicing)], t_of(bar, beat0 + k), beat_sec * 0.5, 68)
    if "bass" in parts:
        root = 36 + pcs[0] % 12  # the bass note (the root unless inverted)
        fifth = root + 7 if (pcs[0] + 7) % 12 in {p % 12 for p in pcs} else root  # no fifth above an inverted bass
        if style == "swing":
            walk = [root, root + pcs[1] - pcs[0], fifth, root + pcs[-1] - pcs[0]]
            for k in range(int(beats)):
                note("bass", walk[k % 4], t_of(bar, beat0 + k), beat_sec * 0.9, 85)
        elif style in ("rock", "dance"):
            for k in np.arange(0, beats, 0.5):
                note("bass", root if (k % 2) < 1 or style == "dance" else fifth, t_of(bar, beat0 + k), beat_sec * 0.4, 88)
        elif style in ("waltz", "chorale"):
            note("bass", root, t_of(bar, beat0), beat_sec * (0.9 if style == "waltz" else beats * 0.95), 88)
        elif style == "six_eight":  # root on beat 1, fifth on beat 2 (dotted quarters)
            for k in range(0, int(beats), 3):
                note("bass", root if k % 6 == 0 else fifth, t_of(bar, beat0 + k), beat_sec * 2.7, 88)
        else:
            note("bass", root, t_of(bar, beat0), beat_sec * min(beats, 2) * 0.9, 88)
            if beats >= 3:
                note("bass", fifth, t_of(bar, beat0 + 2), beat_sec * 0.9, 80)


def _play_drums(note, t_of, bar, bpb, style, crash: bool) -> None:
    def hit(p, beat, vel):
        note("drums", p, t_of(bar, beat), 0.1, vel)

    if crash:
        hit(CRASH, 0, 100)
    if style == "six_eight":  # kick on 1, snare (rim) on 4, hats on every eighth
        hit(KICK, 0, 105)
        hit(SNARE, 3, 80)
        for k in range(bpb):
            hit(CLOSED_HAT, k, 66 if k % 3 == 0 else 50)
        return
    if style == "waltz":
        hit(KICK, 0, 105)
        for k in range(1, bpb):
            hit(SNARE, k, 65)
            hit(CLOSED_HAT, k, 60)
        return
    if style == "swing":
        for k in range(bpb):
            hit(RIDE, k, 80)
            if k % 2 == 1:
                hit(RIDE, k + 0.5, 60)
                hit(PEDAL_HAT, k, 70)
        hit(KICK, 0, 70)
        return
    if style == "dance":
        for k in range(bpb):
            hit(KICK, k, 110)
            hit(OPEN_HAT, k + 0.5, 65)
        hit(SNARE, 1, 90)
        hit(SNARE, 3, 90)
        return
    if style == "hiphop":  # boom-bap: kick on 1 and the "and" of 2, snare on the backbeat
        hit(KICK, 0, 110)
        hit(KICK, 1.5, 90)
        hit(SNARE, 1, 100)
        hit(SNARE, 3, 100)
        for k in np.arange(0, bpb, 0.5):
            hit(CLOSED_HAT, k, 70 if k % 1 == 0 else 50)
        return
    # rock / ballad
    hit(KICK, 0, 110)
    hit(KICK, 2, 100)
    if style == "rock":
        hit(KICK, 2.5, 80)
    hit(SNARE, 1, 100)
    hit(SNARE, 3, 100)
    for k in np.arange(0, bpb, 0.5 if style == "rock" else 1.0):
        hit(CLOSED_HAT, k, 70 if k % 1 == 0 else 50)


def fluidsynth_available(soundfont: str = SOUNDFONTS[0]) -> bool:
    return shutil.which("fluidsynth") is not None and Path(soundfont).exists()


def render(spec: SongSpec, sr_hz: int = 44100) -> tuple[dict[str, np.ndarray], dict]:
    """Render each stem with fluidsynth; returns ({stem: (frames, 2) float32}, truth). The stems sum to the mix."""
    import pretty_midi

    if not Path(spec.soundfont).exists():  # fluidsynth would render with whatever default soundfont it finds, silently
        raise FileNotFoundError(f"soundfont {spec.soundfont} not found: apt-get install fluid-soundfont-gm timgm6mb-soundfont "
                                "(the benchmark corpus plays two in three songs on FluidR3_GM)")
    parts, truth = compose(spec)
    stems = {}
    with tempfile.TemporaryDirectory(prefix="mirray-gm-") as tmp:
        for name in ("drums", "bass", "other", "vocals"):
            midi = pretty_midi.PrettyMIDI(initial_tempo=spec.tempo_bpm)
            midi.instruments.append(parts[name])
            mid, wav = Path(tmp) / f"{name}.mid", Path(tmp) / f"{name}.wav"
            midi.write(str(mid))
            if parts[name].notes:
                subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(sr_hz), "-O", "float", "-T", "wav",
                                "-F", str(wav), spec.soundfont, str(mid)], check=True, capture_output=True)
                stems[name], _ = sf.read(wav, dtype="float32", always_2d=True)
            else:
                stems[name] = np.zeros((0, 2), dtype=np.float32)
    n = int((truth["end_sec"] + 1.0) * sr_hz)  # one second of release tail
    stems = {k: np.pad(v[:n], ((0, max(0, n - len(v))), (0, 0))) for k, v in stems.items()}
    # GM patches differ a lot in level: balance the stems like a mix engineer would, with some spread
    rng = np.random.default_rng(spec.seed + 1)
    for name, level_db in (("drums", 0.0), ("bass", -3.0), ("other", -4.0), ("vocals", -2.0)):
        rms = float(np.sqrt(np.mean(stems[name] ** 2))) if stems[name].any() else 0.0
        if rms > 0:
            stems[name] *= 10 ** ((level_db + rng.uniform(-3, 3)) / 20) * 0.1 / rms
    peak = float(np.abs(sum(stems.values())).max())
    scale = 0.89 / peak if peak > 0 else 1.0
    return {k: (v * scale).astype(np.float32) for k, v in stems.items()}, truth


def benchmark_specs(n: int, seed: int = 2026) -> list[SongSpec]:
    """``n`` varied songs: all 24 keys, 60-180 BPM, 4/4 and 3/4, every style, form and both soundfonts.
    ``seed`` 2026 (the default) is the benchmark set; another seed draws new tempi and, through new song
    seeds (``seed`` × 1000 + i), new progressions, instruments and melodies: a held-out set."""
    rng = np.random.default_rng(seed)
    styles = ("rock", "dance", "swing", "ballad", "hiphop")
    specs = []
    for i in range(n):
        mode = "major" if i % 2 == 0 else "minor"
        tonic = PITCH_CLASSES[(i * 5 + i // 12) % 12]
        bpb = 3 if i % 4 == 3 else 4
        style = styles[i % len(styles)]
        swing = 2.0 if style == "swing" else (1.6 if i % 7 == 1 else 1.0)
        specs.append(SongSpec(tonic=tonic, mode=mode, tempo_bpm=round(float(rng.uniform(60, 180)), 1), beats_per_bar=bpb,
                              form=("verse_chorus", "with_solo", "aaba")[i % 3], style=style, swing_ratio=swing,
                              seed=i if seed == 2026 else seed * 1000 + i,
                              soundfont=SOUNDFONTS[int(i % 3 == 2)]))
    return specs
