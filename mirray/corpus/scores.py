"""Excerpts of real compositions from music21's corpus (string quartets by Haydn, Mozart and Beethoven, piano
music by Joplin, Chopin, Clara Schumann, ...) rendered to MP3 with known beats and downbeats: music without
drums, written by composers rather than by mirray's generator, for checking tempo, beats and meter.

Truth comes from the score: every measure's offset and time signature (its beat unit: a quarter in 3/4, a
dotted quarter in 6/8 and 9/8, a half in 2/2), played at a tempo drawn at random (60–140 beats per minute,
the score's own tempo marks dropped). Repeats are played once as written. The first ``min_sec`` seconds
are kept (whole measures from measure 1, so no pickup), as long as they are a strict grid of full bars in
one time signature; pieces whose excerpt changes meter or has a short or overfull bar are skipped. Needs fluidsynth and a GM soundfont.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np

from mirray.corpus.gm_songs import SOUNDFONTS
from mirray.corpus.synth import write_mp3

# composer -> (most pieces taken, GM programs of the parts: the last repeats for further parts)
STRINGS, PIANO, CHOIR = (40, 40, 41, 42), (0,), (52,)  # violin, violin, viola, cello; grand piano; choir aahs
COMPOSERS = {"haydn": (99, STRINGS), "mozart": (99, STRINGS), "beethoven": (99, STRINGS), "joplin": (99, PIANO),
             "chopin": (99, PIANO), "schumann_clara": (99, PIANO), "schumann_robert": (99, PIANO), "schubert": (99, PIANO),
             "handel": (99, PIANO), "corelli": (99, STRINGS), "cpebach": (99, PIANO), "beach": (99, PIANO),
             "johnson_j_r": (99, PIANO), "liliuokalani": (99, PIANO), "weber": (99, PIANO), "verdi": (99, PIANO),
             "monteverdi": (8, CHOIR), "palestrina": (8, CHOIR)}
TEMPO_RANGE_BPM = (60.0, 140.0)


def score_paths(seed: int = 11) -> list[tuple[Path, tuple[int, ...]]]:
    """(file, GM programs) per piece, MusicXML preferred over Humdrum when a movement has both; composers with
    hundreds of pieces (Palestrina) capped at random so none dominates."""
    from music21 import corpus

    rng = random.Random(seed)
    out = []
    for composer, (cap, programs) in COMPOSERS.items():
        by_piece: dict[Path, Path] = {}
        for p in sorted(map(Path, corpus.getComposer(composer))):
            if p.suffix in (".mxl", ".xml", ".krn") and (p.with_suffix("") not in by_piece or p.suffix != ".krn"):
                by_piece[p.with_suffix("")] = p
        pieces = sorted(by_piece.values())
        out.extend((p, programs) for p in (rng.sample(pieces, cap) if len(pieces) > cap else pieces))
    return out


def excerpt_truth(score, beat_bpm: float, min_sec: float) -> tuple[object, dict] | None:
    """The first measures of ``score`` lasting at least ``min_sec`` at ``beat_bpm`` beats per minute, and their
    truth (qpm, tempo_bpm, beats_per_bar, time_signature, beat and downbeat times in seconds); None when the
    time signature changes in the excerpt or the score has no measures."""
    from music21 import meter

    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not signatures or not score.parts:
        return None
    ts = signatures[0]
    beat_ql, bpb = float(ts.beatDuration.quarterLength), int(ts.beatCount)
    qpm = beat_bpm * beat_ql
    measures_needed = int(np.ceil(min_sec * qpm / 60.0 / float(ts.barDuration.quarterLength)))
    excerpt = score.measures(1, measures_needed)
    measures = list(excerpt.parts[0].getElementsByClass("Measure"))
    bar_ql = float(ts.barDuration.quarterLength)
    if len(measures) < 4 or any(m.timeSignature is not None and m.timeSignature.ratioString != ts.ratioString for m in measures):
        return None
    # a strict grid of whole bars: an incomplete bar before a repeat, an overfull one or a first/second ending
    # would leave the truth to how MIDI export lays them out
    if any(abs(float(m.offset) - i * bar_ql) > 1e-6 or abs(float(m.duration.quarterLength) - bar_ql) > 1e-6 for i, m in enumerate(measures)):
        return None
    sec = 60.0 / qpm  # per quarter note
    beats, downbeats = [], []
    for m in measures:
        start_ql = float(m.offset)
        downbeats.append(start_ql * sec)
        beats.extend((start_ql + i * beat_ql) * sec for i in range(bpb))
    return excerpt, {"tempo_bpm": beat_bpm, "qpm": qpm, "beats_per_bar": bpb, "time_signature": ts.ratioString,
                     "beat_times_sec": beats, "downbeat_times_sec": downbeats}


def render_scores(folder: str | Path, count: int, seed: int = 11, min_sec: float = 45.0) -> list[dict]:
    """Write up to ``count`` excerpts as scNNN.mp3 into ``folder``; returns truth dicts plus "path", "source"
    and "programs" (COMPOSERS: string quartets on GM strings, vocal polyphony on choir, the rest on piano)."""
    from music21 import corpus

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = score_paths(seed)
    rng.shuffle(paths)
    songs: list[dict] = []
    for path, programs in paths:
        if len(songs) >= count:
            break
        try:
            score = corpus.parse(str(path))
            cut = excerpt_truth(score, round(rng.uniform(*TEMPO_RANGE_BPM), 1), min_sec)
        except Exception:  # a corpus file music21 cannot read or cut
            continue
        if cut is None:
            continue
        excerpt, truth = cut
        mp3 = render_score(excerpt, folder / f"sc{len(songs):03d}.mp3", programs, truth["qpm"])
        if mp3 is not None:
            songs.append({**truth, "path": mp3, "source": "/".join(path.parts[path.parts.index("corpus") + 1:]), "programs": programs})
    return songs


def render_score(score, mp3: Path, programs: tuple[int, ...], qpm: float, shift: int = 0,
                 soundfont: str = SOUNDFONTS[0]) -> Path | None:
    """``score`` transposed by ``shift`` semitones at ``qpm``, MIDI track i on GM ``programs[i]`` (the last for
    the rest), through fluidsynth to ``mp3``; None when music21 cannot export it or MIDI cannot spell the
    transposition. Repeats and the score's tempo marks are dropped (the written measures once, at ``qpm``);
    edits ``score`` in place when ``shift`` is 0."""
    import pretty_midi
    import soundfile as sf
    from music21 import bar, repeat, tempo

    mid, wav = mp3.with_suffix(".mid"), mp3.with_suffix(".wav")
    try:
        score = score.transpose(shift) if shift else score
        for el in list(score.recurse().getElementsByClass((tempo.MetronomeMark, tempo.TempoText, bar.Repeat, repeat.RepeatMark))):
            if el.activeSite is not None:
                el.activeSite.remove(el)
        score.parts[0].insert(0, tempo.MetronomeMark(number=qpm))
        score.write("midi", fp=str(mid))
        pm = pretty_midi.PrettyMIDI(str(mid))
    except Exception:
        mid.unlink(missing_ok=True)
        return None
    for i, inst in enumerate(pm.instruments):
        inst.program, inst.is_drum = programs[min(i, len(programs) - 1)], False
    pm.write(str(mid))
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", "44100", "-T", "wav", "-F", str(wav), soundfont, str(mid)],
                   check=True, capture_output=True)
    y, sr_hz = sf.read(wav, dtype="float32", always_2d=True)
    wav.unlink()
    mid.unlink()
    return write_mp3(mp3, y * (0.89 / max(float(np.abs(y).max()), 1e-9)), sr_hz)
