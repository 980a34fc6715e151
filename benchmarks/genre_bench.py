"""Genre accuracy and calibration on genre-styled General MIDI songs (mirray.corpus.gm_genres).

Songs carry no genre tag, so only the audio/theory model speaks. Reports top-1 / top-3 accuracy, a
confusion table, and calibration of the primary confidence: a reliability table and the expected
calibration error (ECE, 5 equal-width bins). Needs fluidsynth + a GM soundfont.

    .venv/bin/python benchmarks/genre_bench.py [--per-genre 4] [--seed 7]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from mir_eval_bench import gm_mp3, mirray_run  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.gm_genres import GENRES, genre_specs
from mirray.udfs import genre


def calibration(conf: np.ndarray, correct: np.ndarray, bins: int = 5) -> tuple[float, list[tuple[str, int, float, float]]]:
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (conf >= a) & ((conf < b) if b < 1 else (conf <= b))
        if sel.any():
            table.append((f"{a:.1f}-{b:.1f}", int(sel.sum()), float(conf[sel].mean()), float(correct[sel].mean())))
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(ece), table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-genre", type=int, default=4)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sharpness", type=float, default=None, help="override theory.genre_sharpness")
    p.add_argument("--fit-sharpness", action="store_true",
                   help="also print the sharpness that minimises the log loss on these songs (fit on one seed, test on another)")
    args = p.parse_args()
    cfg = load_config()
    if args.sharpness is not None:
        cfg["theory"]["genre_sharpness"] = args.sharpness
    model = genre.load_model(cfg["theory"]["genre_model"])
    raw = []
    folder = Path(tempfile.mkdtemp(prefix="mirray-genre-"))
    truth, primary, conf, top3 = [], [], [], []
    for i, spec in enumerate(genre_specs(args.per_genre, args.seed)):
        _, path, _ = gm_mp3(spec, folder / f"g{i:03d}.mp3")
        row, _ = mirray_run(path, cfg)
        mt = row["music_theory"]
        g = mt["genre_analysis"]
        raw.append(model.predict(genre.features_for_genre(row, mt["harmonic_analysis"], mt["rhythmic_analysis"])))
        truth.append(spec.genre)
        primary.append(g["primary_genre"])
        conf.append(g["confidence"])
        top3.append(spec.genre in [x["genre"] for x in g["predicted_genres"]])
    correct = np.array([t == p_ for t, p_ in zip(truth, primary)])
    ece, table = calibration(np.array(conf), correct)
    print(f"\nGenre from audio + theory (no tags), {len(truth)} songs, {args.per_genre} per genre, seed {args.seed}")
    print(f"top-1 accuracy {correct.mean():.3f} · top-3 {np.mean(top3):.3f} · mean confidence {np.mean(conf):.3f} · ECE {ece:.3f}")
    print("\n| true genre | top-1 correct | predicted (count) |\n|---|---:|---|")
    for g in GENRES:
        got = Counter(p_ for t, p_ in zip(truth, primary) if t == g)
        print(f"| {g} | {got.get(g, 0)}/{sum(got.values())} | {', '.join(f'{k} {v}' for k, v in got.most_common())} |")
    print("\n| confidence bin | songs | mean confidence | accuracy |\n|---|---:|---:|---:|")
    for name, n, c, a in table:
        print(f"| {name} | {n} | {c:.3f} | {a:.3f} |")
    if args.fit_sharpness:
        def log_loss(gamma: float) -> float:
            return -float(np.mean([np.log(max(genre.scores_to_probs(r, gamma).get(t, 0.0), 1e-6)) for r, t in zip(raw, truth)]))
        grid = np.round(np.arange(0.5, 8.01, 0.25), 2)
        best = min(grid, key=log_loss)
        print(f"\nsharpness minimising log loss on these songs: {best} (log loss {log_loss(best):.3f}; at 1.0: {log_loss(1.0):.3f})")


if __name__ == "__main__":
    main()
