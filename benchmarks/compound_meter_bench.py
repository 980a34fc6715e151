"""Compound meter (6/8) on rendered General MIDI songs: time signature, tempo, beats and downbeats.

Songs from mirray.corpus.gm_songs with beats_per_bar=6: broken chords in eighths, kick on 1, snare on 4,
hats on every eighth, bass on the two dotted-quarter beats. Truth counts dotted quarters (two per bar).

    .venv/bin/python benchmarks/compound_meter_bench.py [--songs 12]
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from pathlib import Path

import numpy as np

from mir_eval_bench import add_set_option, gm_mp3, mirray_run, score
from mirray.config import load_config
from mirray.corpus.gm_songs import SOUNDFONTS, SongSpec
from mirray.udfs.mir import PITCH_CLASSES


def specs(n: int, seed: int = 68) -> list[SongSpec]:
    rng = np.random.default_rng(seed)
    return [SongSpec(tonic=PITCH_CLASSES[(i * 5) % 12], mode=("major", "minor")[i % 2], tempo_bpm=round(float(rng.uniform(45, 90)), 1),
                     beats_per_bar=6, form=("verse_chorus", "aaba")[i % 2], seed=100 + i, soundfont=SOUNDFONTS[i % 2], bars=32)
            for i in range(n)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=12)
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    folder = Path(tempfile.mkdtemp(prefix="mirray-68-"))
    rows, found = [], collections.Counter()
    for i, spec in enumerate(specs(args.songs)):
        truth, path, duration_sec = gm_mp3(spec, folder / f"six8_{i:02d}.mp3")
        row, _ = mirray_run(path, cfg)
        m = score(truth, row, duration_sec)
        found[row["time_signature"]] += 1
        rows.append(m)
        print(f"song {i}: {spec.tempo_bpm} BPM (dotted quarter) → {row['tempo_bpm']:.1f} BPM {row['time_signature']}, "
              f"beat F {m['beat_f']:.2f}, downbeat F {m['downbeat_f']:.2f}")
    keys = ["time_signature", "tempo_acc1", "tempo_acc2", "beat_f", "downbeat_f", "chords_majmin", "key"]
    print(f"\n6/8 songs: {len(rows)} GM songs, 32 bars each, 45-90 dotted-quarter BPM")
    print("| " + " | ".join(keys) + " |")
    print("|" + "---:|" * len(keys))
    print("| " + " | ".join(f"{np.mean([r[k] for r in rows]):.3f}" for k in keys) + " |")
    print("\ntime signatures reported: " + ", ".join(f"{k} {v}" for k, v in found.most_common()))


if __name__ == "__main__":
    main()
