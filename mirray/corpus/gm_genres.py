"""Genre-styled General MIDI songs: each genre's conventions (groove, tempo range, harmony, instruments,
form) drawn at random within the genre, for measuring genre accuracy and calibration."""

from __future__ import annotations

import numpy as np

from mirray.corpus.gm_songs import SOUNDFONTS, SongSpec
from mirray.udfs.mir import PITCH_CLASSES

BLUES_12 = ("V7/IV", "V7/IV", "V7/IV", "V7/IV", "V7/bVII", "V7/bVII", "V7/IV", "V7/IV", "V7", "V7/bVII", "V7/IV", "V7")
# genre: (style, tempo range BPM, swing ratios, meters, forms, modes, progressions per family, GM programs, vocals)
GENRES = {
    "rock": ("rock", (100, 160), (1.0,), (4,), ("verse_chorus", "with_solo"), ("major", "minor"),
             {"major": {"verse": ("I", "bVII", "IV", "I"), "chorus": ("I", "V", "vi", "IV"), "bridge": ("vi", "IV", "I", "V")},
              "minor": {"verse": ("i", "VII", "VI", "VII"), "chorus": ("i", "VI", "III", "VII"), "bridge": ("iv", "VI", "VII", "V")}},
             {"other": (29, 30), "bass": (33, 34)}, True),
    "pop": ("ballad", (80, 120), (1.0,), (4,), ("verse_chorus",), ("major",),
            {"major": {"verse": ("I", "vi", "IV", "V"), "chorus": ("I", "V", "vi", "IV"), "bridge": ("vi", "IV", "I", "V")}},
            {"other": (0, 4, 48), "bass": (33, 38)}, True),
    "blues": ("rock", (70, 130), (2.0,), (4,), ("blues",), ("major",),
              {"major": {"verse": BLUES_12, "turnaround": ("V7/IV", "V7/bVII", "V7/IV", "V7")}},
              {"other": (0, 16, 27), "bass": (32, 33), "lead": (65, 66)}, True),
    "jazz": ("swing", (110, 200), (2.0,), (4,), ("aaba",), ("major", "minor"),
             {"major": {"verse": ("ii7", "V7", "Imaj7", "vi7"), "bridge": ("iii7", "V7/ii", "ii7", "V7")},
              "minor": {"verse": ("iiø7", "V7", "i7", "iv7"), "bridge": ("III", "VI", "iiø7", "V7")}},
             {"other": (0, 4, 26), "bass": (32,), "lead": (65, 66, 56)}, False),
    "electronic": ("dance", (120, 132), (1.0,), (4,), ("verse_chorus", "with_solo"), ("minor", "major"),
                   {"minor": {"verse": ("i", "VI", "III", "VII"), "chorus": ("VI", "VII", "i", "i"), "bridge": ("iv", "VI", "VII", "VII")},
                    "major": {"verse": ("vi", "IV", "I", "V"), "chorus": ("IV", "V", "vi", "vi"), "bridge": ("ii", "IV", "V", "V")}},
                   {"other": (81, 89, 90), "bass": (38, 39), "lead": (80, 81)}, False),
    "hip-hop": ("hiphop", (80, 100), (1.0, 1.3), (4,), ("verse_chorus",), ("minor",),
                {"minor": {"verse": ("i", "iv", "i", "iv"), "chorus": ("VI", "VII", "i", "i"), "bridge": ("iv", "V", "i", "i")}},
                {"other": (0, 4, 48), "bass": (38, 33)}, True),
    "country": ("country", (100, 140), (1.0,), (4,), ("verse_chorus",), ("major",),
                {"major": {"verse": ("I", "IV", "V", "I"), "chorus": ("IV", "I", "V", "I"), "bridge": ("IV", "I", "ii", "V")}},
                {"other": (25, 24), "bass": (32, 33), "lead": (105, 110)}, True),
    "classical": ("chorale", (60, 90), (1.0,), (4, 3), ("chorale",), ("major", "minor"),
                  {"major": {"verse": ("I", "IV", "V7", "I"), "chorus": ("vi", "ii", "V", "I")},
                   "minor": {"verse": ("i", "iv", "V7", "i"), "chorus": ("VI", "iiø7", "V", "i")}},
                  {"other": (48, 19, 49), "bass": (42, 43), "vocals": (52,)}, True),
}


def genre_specs(per_genre: int, seed: int = 7) -> list[SongSpec]:
    """``per_genre`` songs of every genre in GENRES, keys and tempos at random within the genre."""
    rng = np.random.default_rng(seed)
    specs = []
    for g, (style, (lo, hi), swings, meters, forms, modes, progs, programs, vocals) in GENRES.items():
        for i in range(per_genre):
            mode = modes[i % len(modes)]
            specs.append(SongSpec(
                tonic=PITCH_CLASSES[int(rng.integers(12))], mode=mode, tempo_bpm=round(float(rng.uniform(lo, hi)), 1),
                beats_per_bar=int(meters[i % len(meters)]), form=forms[i % len(forms)], style=style,
                swing_ratio=float(swings[i % len(swings)]), seed=int(rng.integers(1 << 30)),
                soundfont=SOUNDFONTS[int(i % 3 == 2)], progressions=tuple(progs[mode].items()),
                programs=tuple((part, int(rng.choice(choices))) for part, choices in programs.items()), vocals=vocals, genre=g))
    return specs
