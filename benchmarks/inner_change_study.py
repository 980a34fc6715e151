"""Chord changes inside the bar: which are real, and does a note outside the chord before tell them apart?

Runs mirray with ``chords.join_inner_changes`` off (``mir.chord_inner_change_share=0``) over a ``mir_eval_bench.py
--cache`` set and takes every estimated chord change that is not on an estimated downbeat (±0.1 s). Real: a true
chord boundary lies within 0.2 s. For each change it asks the pass's question: are all pitch classes at ``share``
of the loudest (median chord chroma from the change to the next downbeat) tones of the chord before it? Prints, per
share, how many false and how many real changes that flags (the pass joins flagged ones back).

    .venv/bin/python benchmarks/inner_change_study.py --cache /tmp/gm89 --cache /tmp/gm113
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import librosa
import numpy as np

from mir_eval_bench import add_set_option, blas_threads, mirray_run  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.udfs import audio, chords, mir


def chord_chroma(path: Path, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """The mix's chord chroma and frame times, as ``pipeline.song`` computes them (variable-Q bass, flattened tilt)."""
    sr, hop, mc = cfg["audio"]["mir_sample_rate_hz"], cfg["mir"]["hop_length"], cfg["mir"]
    x, rate = audio.decode(path.read_bytes())
    y = audio.resample(audio.to_mono(x), rate, sr)
    _, tuning, cqt = mir.chroma_features(y, sr, hop, with_cqt=True)
    cqt = mir.variable_q_bass(y, sr, hop, cqt, tuning, mc["chord_vqt_gamma_hz"])
    chroma = mir.chroma_from_cqt(mir.flatten_tilt(cqt) if mc["chord_flatten_tilt"] else cqt)
    return chroma, librosa.frames_to_time(np.arange(chroma.shape[1]), sr=sr, hop_length=hop)


def inner_changes(truth: dict, row: dict, chroma: np.ndarray, times: np.ndarray, shares: list[float]) -> list[tuple[bool, list[bool]]]:
    """(real?, [flagged at each share]) for each estimated change off the downbeats: ``chords.join_inner_changes``'s test."""
    downbeats = np.asarray(row["downbeat_times_sec"] or [], dtype=np.float64)
    true_bounds = np.array([c[0] for c in truth["chords"]])
    out = []
    for before, seg in zip(row["chords"][:-1], row["chords"][1:]):
        t = seg["start_sec"]
        bar_end = chords.inner_part_end(t, seg["end_sec"], downbeats)
        if bar_end is None or "N" in (before["label"], seg["label"]) or not ((times >= t) & (times < bar_end)).any():
            continue
        real = bool(len(true_bounds)) and float(np.min(np.abs(true_bounds - t))) < 0.2
        out.append((real, [chords.brings_no_new_note(chroma, times, t, bar_end, before["label"], s) for s in shares]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, action="append", required=True, help="a mir_eval_bench.py --cache folder (repeatable)")
    p.add_argument("--shares", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7])
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=["mir.chord_inner_change_share=0", *args.set])
    found = []
    with blas_threads(1):
        for cache in args.cache:
            for truth in pickle.loads((cache / "songs.pkl").read_bytes())["songs"]:
                row, _ = mirray_run(Path(truth["path"]), cfg)
                found += inner_changes(truth, row, *chord_chroma(Path(truth["path"]), cfg), args.shares)
            print(f"{cache}: {len(found)} changes inside the bar so far", flush=True)
    real = np.array([f[0] for f in found], dtype=bool)
    print(f"\n{len(found)} estimated chord changes inside the bar: {real.sum()} real, {(~real).sum()} false ({', '.join(map(str, args.cache))})")
    print("| share | false changes flagged | real changes flagged |\n|---:|---:|---:|")
    for i, share in enumerate(args.shares):
        flagged = np.array([f[1][i] for f in found], dtype=bool)
        print(f"| {share} | {flagged[~real].sum()} / {(~real).sum()} | {flagged[real].sum()} / {real.sum()} |")


if __name__ == "__main__":
    main()
