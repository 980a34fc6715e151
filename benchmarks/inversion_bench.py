"""Chord inversions on rendered General MIDI songs whose progressions invert chords (V6, I64, IV6, V42).

Scores with mir_eval (majmin, majmin_inv) and, per 0.1 s of chord time: how often an inverted chord gets
its bass named right, and how often a root-position chord is called inverted.

    .venv/bin/python benchmarks/inversion_bench.py [--songs 12] [--dir DIR]
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from pathlib import Path

import mir_eval
import numpy as np

from mir_eval_bench import add_set_option, gm_mp3, mirray_run
from mirray.config import load_config
from mirray.corpus.gm_songs import SOUNDFONTS, SongSpec
from mirray.udfs.mir import PITCH_CLASSES

PROGRESSIONS = (
    (("verse", ("I", "V6", "vi", "IV")), ("chorus", ("IV", "I64", "V", "I")), ("bridge", ("vi", "I6", "IV", "V"))),
    (("verse", ("I", "IV6", "V", "I")), ("chorus", ("vi", "V42", "I6", "IV")), ("bridge", ("ii", "V65", "I", "I"))),
)
STYLES = ("ballad", "rock", "hiphop", "dance", "swing", "ballad")


def specs(n: int, seed: int = 6) -> list[SongSpec]:
    rng = np.random.default_rng(seed)
    return [SongSpec(tonic=PITCH_CLASSES[(i * 7) % 12], mode="major", tempo_bpm=round(float(rng.uniform(70, 140)), 1),
                     style=STYLES[i % len(STYLES)], form="verse_chorus", seed=200 + i, soundfont=SOUNDFONTS[i % 2], bars=32,
                     progressions=PROGRESSIONS[i % len(PROGRESSIONS)]) for i in range(n)]


def _rendered(spec: SongSpec, path: Path) -> tuple[dict, Path]:
    """(truth, path): the song rendered to ``path``, or its earlier render there (truth kept beside it)."""
    kept = path.with_suffix(".truth.pkl")
    if path.exists() and kept.exists():
        saved = pickle.loads(kept.read_bytes())
        if saved["spec"] == spec:
            return saved["truth"], path
    truth, path, _ = gm_mp3(spec, path)
    kept.write_bytes(pickle.dumps({"spec": spec, "truth": truth}))
    return truth, path


def _at(segments: list, t: float) -> str | None:
    return next((lab for a, b, lab in segments if a <= t < b), None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=12)
    p.add_argument("--dir", type=Path, help="render into (and reuse renders from) this folder: an A/B then scores the same audio")
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="mirray-inv-"))
    folder.mkdir(parents=True, exist_ok=True)
    majmin, majmin_inv = [], []
    inverted_hits = inverted_total = false_inv = root_total = 0
    for i, spec in enumerate(specs(args.songs)):
        truth, path = _rendered(spec, folder / f"inv_{i:02d}.mp3")
        row, _ = mirray_run(path, cfg)
        ref = [(a, b, lab) for a, b, lab in truth["chords"]]
        est = [(c["start_sec"], c["end_sec"], c["label"]) for c in row["chords"]]
        scores = mir_eval.chord.evaluate(np.array([r[:2] for r in ref]), [r[2] for r in ref], np.array([e[:2] for e in est]),
                                         [e[2] for e in est])
        majmin.append(scores["majmin"])
        majmin_inv.append(scores["majmin_inv"])
        for t in np.arange(ref[0][0], ref[-1][1], 0.1):
            r, e = _at(ref, t), _at(est, t) or "N"
            if r is None:
                continue
            if "/" in r:
                inverted_total += 1
                inverted_hits += e == r
            else:
                root_total += 1
                false_inv += "/" in e
        print(f"song {i}: {spec.style}, majmin {scores['majmin']:.2f}, majmin_inv {scores['majmin_inv']:.2f}")
    print(f"\nInversions: {len(majmin)} GM songs (major keys, 32 bars, progressions with V6, I64, IV6, V42, I6, V65)")
    print("| majmin | majmin_inv | inverted chords named exactly (share of time) | root-position chords called inverted |")
    print("|---:|---:|---:|---:|")
    print(f"| {np.mean(majmin):.3f} | {np.mean(majmin_inv):.3f} | {inverted_hits / max(inverted_total, 1):.3f} | "
          f"{false_inv / max(root_total, 1):.3f} |")


if __name__ == "__main__":
    main()
