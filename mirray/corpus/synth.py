"""Numpy-synthesised clips with known tempo, key and beat times, written as real MP3s with ID3 tags.

Quick and dependency-free (libsndfile's own LAME encoder); the richer fluidsynth corpus for accuracy
benchmarks lives beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from mirray.udfs.mir import PITCH_CLASSES

# Scale degrees (semitones above tonic) of the chord roots and their qualities, one chord per bar.
PROGRESSIONS = {
    "major": [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")],  # I IV V I
    "minor": [(0, "min"), (5, "min"), (7, "maj"), (0, "min")],  # i iv V i
    "pop": [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],    # I V vi IV
    "jazz": [(2, "min7"), (7, "7"), (0, "maj7"), (9, "min7")],  # ii7 V7 Imaj7 vi7
    "bridge": [(9, "min"), (5, "maj"), (2, "min"), (7, "maj")],  # vi IV ii V
    "minor_pop": [(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")],  # i VI III VII
    "minor_bridge": [(5, "min"), (8, "maj"), (10, "maj"), (7, "maj")],  # iv VI VII V
}

# A song form: (section label, bars, progression for major / minor keys, parts playing).
ALL = ("drums", "bass", "other", "vocals")
POP_FORM = (
    ("intro", 4, ("major", "minor"), ("other",)),
    ("verse", 8, ("major", "minor"), ("drums", "bass", "other")),
    ("chorus", 8, ("pop", "minor_pop"), ALL),
    ("verse", 8, ("major", "minor"), ("drums", "bass", "other")),
    ("chorus", 8, ("pop", "minor_pop"), ALL),
    ("bridge", 4, ("bridge", "minor_bridge"), ("bass", "other")),
    ("chorus", 8, ("pop", "minor_pop"), ALL),
    ("outro", 4, ("major", "minor"), ("bass", "other")),
)
_TRIAD = {"maj": (0, 4, 7), "min": (0, 3, 7), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "7": (0, 4, 7, 10)}


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _tone(freq_hz: float, n: int, sr: int, decay_per_sec: float, harmonics: int = 4) -> np.ndarray:
    t = np.arange(n) / sr
    wave = sum(np.sin(2 * np.pi * freq_hz * h * t) / h for h in range(1, harmonics + 1))
    return (wave * np.exp(-decay_per_sec * t)).astype(np.float32)


def _kick(n: int, sr: int) -> np.ndarray:
    """Pitch-swept sine (150 -> 45 Hz), like a drum machine kick: no stable pitch to bias the key."""
    t = np.arange(n) / sr
    freq_hz = 45.0 + 105.0 * np.exp(-t * 25.0)
    phase = 2 * np.pi * np.cumsum(freq_hz) / sr
    return (np.sin(phase) * np.exp(-t * 14.0)).astype(np.float32)


def render_stems(
    tempo_bpm: float,
    tonic: str,
    mode: str,
    duration_sec: float,
    sr_hz: int = 44100,
    beats_per_bar: int = 4,
    seed: int = 0,
    vocals: bool = False,
    progression: str | None = None,
    form: tuple | None = None,
    swing_ratio: float = 1.0,
) -> tuple[dict[str, np.ndarray], dict]:
    """Drums, bass, chords ("other") and optionally a sung-like melody ("vocals"), as mono float32
    stems that sum to the mix. One chord per bar from PROGRESSIONS[progression or mode].

    Returns (stems, truth); truth: tempo_bpm, beat_times_sec, downbeat_times_sec, key, beats_per_bar,
    chords [(start_sec, end_sec, Harte label)], and with a ``form`` (e.g. POP_FORM; it sets the
    duration) sections [(start_sec, end_sec, label)]."""
    prog = PROGRESSIONS[progression or mode]
    period_sec = 60.0 / tempo_bpm
    # per bar: (progression, bar index within the section, parts playing, section label)
    if form:
        plan = [(PROGRESSIONS[progs[0 if mode == "major" else 1]], b, parts, label)
                for label, bars, progs, parts in form for b in range(bars)]
        duration_sec = len(plan) * beats_per_bar * period_sec + 0.5
    else:
        parts_all = ALL if vocals else ALL[:3]
        plan = None
    rng = np.random.default_rng(seed)
    n = int(duration_sec * sr_hz)
    stems = {name: np.zeros(n, dtype=np.float32) for name in ("drums", "bass", "other", "vocals")}
    tonic_pc = PITCH_CLASSES.index(tonic)
    beat_times = np.arange(0.0, duration_sec - 0.05, period_sec)
    kick = _kick(int(0.25 * sr_hz), sr_hz) * 0.9
    snare = (rng.standard_normal(int(0.15 * sr_hz)) * np.exp(-30 * np.arange(int(0.15 * sr_hz)) / sr_hz)).astype(np.float32) * 0.25
    hat = (rng.standard_normal(int(0.04 * sr_hz)) * np.exp(-120 * np.arange(int(0.04 * sr_hz)) / sr_hz)).astype(np.float32) * 0.08

    def add(name, start, part):
        m = min(len(part), n - start)
        if m > 0:
            stems[name][start:start + m] += part[:m]

    for i, t in enumerate(beat_times):
        start = int(round(t * sr_hz))
        bar, beat_in_bar = divmod(i, beats_per_bar)
        if plan is not None and bar >= len(plan):
            break
        bar_prog, bar_in_prog, parts, _ = plan[bar] if plan is not None else (prog, bar, parts_all, None)
        root_deg, quality = bar_prog[bar_in_prog % len(bar_prog)]
        root_pc = (tonic_pc + root_deg) % 12
        seg = min(int(period_sec * sr_hz), n - start)
        if "drums" in parts:
            add("drums", start, kick if beat_in_bar == 0 or (beats_per_bar == 4 and beat_in_bar == 2) else kick * 0.6)
            add("drums", start, hat)
            if beats_per_bar == 4 and beat_in_bar in (1, 3):
                add("drums", start, snare)
            add("drums", start + int(seg * swing_ratio / (1 + swing_ratio)), hat * 0.6)  # off-beat hat (swung if ratio > 1)
        if "bass" in parts:
            add("bass", start, _tone(_hz(36 + root_pc), seg, sr_hz, 3.0, harmonics=3) * 0.35)
        add("other", start, sum(_tone(_hz(60 + (root_pc + iv) % 12), seg, sr_hz, 2.5) for iv in _TRIAD[quality]) * 0.12)
        if "vocals" in parts and bar_in_prog % 4 != 3:  # sing three bars of four: the stem has real silences
            note = 72 + (root_pc + _TRIAD[quality][rng.integers(0, 3)]) % 12
            t_note = np.arange(seg) / sr_hz
            vibrato = 1 + 0.006 * np.sin(2 * np.pi * 5.5 * t_note)
            phase = 2 * np.pi * np.cumsum(_hz(note) * vibrato) / sr_hz
            voice = sum(np.sin(h * phase) / h ** 1.5 for h in range(1, 7)) * np.minimum(1, t_note / 0.04) * 0.18
            add("vocals", start, voice.astype(np.float32))
    if not (vocals or form):
        del stems["vocals"]
    scale = 0.8 / max(1e-6, float(np.abs(sum(stems.values())).max()))
    stems = {k: (v * scale).astype(np.float32) for k, v in stems.items()}
    bar_starts = beat_times[::beats_per_bar][: len(plan) if plan is not None else None]
    chords = []
    for bar, t0 in enumerate(bar_starts):
        bar_prog, bar_in_prog = (plan[bar][0], plan[bar][1]) if plan is not None else (prog, bar)
        root_deg, quality = bar_prog[bar_in_prog % len(bar_prog)]
        t1 = float(bar_starts[bar + 1]) if bar + 1 < len(bar_starts) else duration_sec
        chords.append((float(t0), float(t1), f"{PITCH_CLASSES[(tonic_pc + root_deg) % 12]}:{quality}"))
    truth = {
        "tempo_bpm": float(tempo_bpm),
        "beat_times_sec": beat_times.tolist(),
        "downbeat_times_sec": bar_starts.tolist(),
        "key": f"{tonic} {mode}",
        "beats_per_bar": beats_per_bar,
        "chords": chords,
    }
    if plan is not None:
        sections, bar = [], 0
        for label, bars, _, _ in form:
            end = float(bar_starts[bar + bars]) if bar + bars < len(bar_starts) else len(bar_starts) * beats_per_bar * period_sec
            sections.append((float(bar_starts[bar]), end, label))
            bar += bars
        truth["sections"] = sections
        truth["beat_times_sec"] = beat_times[: len(plan) * beats_per_bar].tolist()
    return stems, truth


def render_clip(tempo_bpm: float, tonic: str, mode: str, duration_sec: float, sr_hz: int = 44100,
                beats_per_bar: int = 4, seed: int = 0, vocals: bool = False, progression: str | None = None,
                form: tuple | None = None, swing_ratio: float = 1.0) -> tuple[np.ndarray, dict]:
    """The mix of ``render_stems`` as stereo float32 (frames, 2), and its ground truth."""
    stems, truth = render_stems(tempo_bpm, tonic, mode, duration_sec, sr_hz, beats_per_bar, seed, vocals, progression, form, swing_ratio)
    mix = sum(stems.values())
    return np.stack([mix, mix * 0.98], axis=1), truth


def write_mp3(path: str | Path, samples: np.ndarray, sr_hz: int, tags: dict | None = None, cover_art: bytes | None = None) -> Path:
    """Encode ``samples`` (frames, channels) to MP3 with libsndfile's LAME (VBR) and write ID3v2.4 tags.

    ``tags`` keys: title, artist, album, album_artist, year, genre, track ("3/12"), musicbrainz_recording_id,
    musicbrainz_album_id.
    """
    from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK, TXXX, UFID

    path = Path(path)
    sf.write(path, samples, sr_hz, format="MP3", subtype="MPEG_LAYER_III")
    tags = tags or {}
    id3 = ID3()
    frames = {"title": TIT2, "artist": TPE1, "album": TALB, "album_artist": TPE2, "year": TDRC, "genre": TCON, "track": TRCK}
    for key, frame in frames.items():
        if tags.get(key) is not None:
            id3.add(frame(encoding=3, text=[str(tags[key])]))
    if tags.get("musicbrainz_recording_id"):
        id3.add(UFID(owner="http://musicbrainz.org", data=tags["musicbrainz_recording_id"].encode()))
    if tags.get("musicbrainz_album_id"):
        id3.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=[tags["musicbrainz_album_id"]]))
    if cover_art:
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=cover_art))
    id3.save(path, v2_version=4)
    return path


DEMO_SONGS = (
    # title, artist, genre, tempo_bpm, tonic, mode
    ("Morning Drive", "The Synthetics", "Pop", 120.0, "A", "major"),
    ("Night Shift", "The Synthetics", "Rock", 96.0, "E", "minor"),
    ("Blue Steps", "Sine Quartet", "Jazz", 132.0, "Bb", "major"),
    ("Low Tide", "Sine Quartet", "Electronic", 124.0, "F", "minor"),
    ("Paper Roads", "Square Roots", "Country", 104.0, "G", "major"),
    ("Glass City", "Square Roots", "Hip-Hop", 90.0, "C#", "minor"),
)


def write_demo_corpus(folder: str | Path, duration_sec: float = 20.0, count: int = len(DEMO_SONGS)) -> list[dict]:
    """Write ``count`` tagged demo MP3s into ``folder``; returns their ground truth (with ``path``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    truths = []
    for i, (title, artist, genre, tempo, tonic, mode) in enumerate(DEMO_SONGS[:count]):
        samples, truth = render_clip(tempo, tonic, mode, duration_sec, seed=i)
        path = folder / f"{i + 1:02d} {title}.mp3"
        tags = {"title": title, "artist": artist, "album": "mirray demo", "year": 2026, "genre": genre, "track": f"{i + 1}/{count}"}
        write_mp3(path, samples, 44100, tags)
        truths.append({**truth, **tags, "path": str(path)})
    return truths
