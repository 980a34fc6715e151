"""Bach chorales from music21's corpus rendered to MP3 with a known global key: music made differently
from the GM pop generator (four real voices, modulations to the dominant and back, cadences on fermatas).

The key is read from the score, not estimated: a chorale is kept when its bass begins and ends on the
key signature's major tonic (major) or its relative minor's (minor); chorales in modal or "Dorian"
notation and those ending on a half cadence are skipped. Each kept chorale is transposed at random (all
24 keys appear), played at a random tempo on one random General MIDI instrument through fluidsynth.
Needs fluidsynth and a GM soundfont (see gm_songs.SOUNDFONTS).
"""

from __future__ import annotations

import random
from pathlib import Path

from mirray.corpus.gm_songs import SOUNDFONTS
from mirray.corpus.scores import render_score
from mirray.udfs.mir import PITCH_CLASSES

PROGRAMS = (19, 48, 52, 0, 24, 71)  # church organ, strings, choir, piano, nylon guitar, clarinet
TEMPI_QPM = (66, 76, 88, 100)


def chorale_key(score) -> str | None:
    """'G major' / 'E minor' when the bass's first and last notes are the key signature's tonic, else None."""
    from music21 import key

    signatures = score.recurse().getElementsByClass(key.KeySignature)
    if not signatures or len(score.parts) < 4:
        return None
    bass = score.parts[-1].recurse().notes
    if not bass:
        return None
    first, last = bass[0].pitches[0].pitchClass, bass[-1].pitches[0].pitchClass
    major, minor = signatures[0].asKey("major").tonic.pitchClass, signatures[0].asKey("minor").tonic.pitchClass
    if first != last or first not in (major, minor):
        return None
    return f"{PITCH_CLASSES[first]} {'major' if first == major else 'minor'}"


def render_chorales(folder: str | Path, count: int, seed: int = 5) -> list[dict]:
    """Write up to ``count`` chorales as chNNN.mp3 into ``folder``; returns [{"path", "key", "source",
    "transpose_semitones", "program", "tempo_qpm"}]. Deterministic for a seed and a music21 version."""
    from music21 import corpus

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = sorted(corpus.getComposer("bach"), key=lambda p: p.name)
    rng.shuffle(paths)
    songs: list[dict] = []
    for path in paths:
        if len(songs) >= count:
            break
        score = corpus.parse(str(path))
        home = chorale_key(score)
        if home is None:
            continue
        shift, qpm, program = rng.randint(-5, 6), rng.choice(TEMPI_QPM), rng.choice(PROGRAMS)
        mp3 = render_chorale(score, folder / f"ch{len(songs):03d}.mp3", shift, program, qpm)
        if mp3 is None:
            continue
        tonic, mode = home.split()
        songs.append({"path": mp3, "key": f"{PITCH_CLASSES[(PITCH_CLASSES.index(tonic) + shift) % 12]} {mode}",
                      "source": path.name, "transpose_semitones": shift, "program": program, "tempo_qpm": qpm})
    return songs


def render_chorale(score, mp3: Path, shift: int, program: int, qpm: float, soundfont: str = SOUNDFONTS[0]) -> Path | None:
    """One score, transposed by ``shift`` semitones, every part on GM ``program`` at ``qpm``, to ``mp3`` (scores.render_score)."""
    return render_score(score, mp3, (program,), qpm, shift, soundfont)
