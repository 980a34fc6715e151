"""Genre accuracy and calibration on genre-styled General MIDI songs (mirray.corpus.gm_genres).

Songs carry no genre tag, so only the audio/theory model speaks. Reports top-1 / top-3 accuracy, log
loss, a confusion table, and calibration of the primary confidence: a reliability table and the expected
calibration error (ECE, 5 equal-width bins). Needs fluidsynth + a GM soundfont.

    .venv/bin/python benchmarks/genre_bench.py [--per-genre 4] [--seed 11] [--train-seeds 7 13]

With --train-seeds, the linear model (mirray.udfs.genre_model, what `mirray genre-fit` trains) is fitted
on other seeds' songs and scored on the same songs as the rules.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from mir_eval_bench import add_set_option, gm_mp3, mirray_run  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.gm_genres import GENRES, genre_specs
from mirray.udfs import genre
from mirray.udfs.genre_model import fit_best


def calibration(conf: np.ndarray, correct: np.ndarray, bins: int = 5) -> tuple[float, list[tuple[str, int, float, float]]]:
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (conf >= a) & ((conf < b) if b < 1 else (conf <= b))
        if sel.any():
            table.append((f"{a:.1f}-{b:.1f}", int(sel.sum()), float(conf[sel].mean()), float(correct[sel].mean())))
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(ece), table


def song_features(per_genre: int, seed: int, cfg: dict, folder: Path) -> tuple[list[str], list[dict]]:
    """(true genres, genre features) of the genre-styled songs of one seed, through every CPU stage."""
    truth, feats = [], []
    for i, spec in enumerate(genre_specs(per_genre, seed)):
        _, path, _ = gm_mp3(spec, folder / f"s{seed}-g{i:03d}.mp3")
        row, _ = mirray_run(path, cfg)
        mt = row["music_theory"]
        truth.append(spec.genre)
        feats.append(genre.features_for_genre(row, mt["harmonic_analysis"], mt["rhythmic_analysis"]))
    return truth, feats


def report(title: str, truth: list[str], probs: list[dict[str, float]]) -> None:
    primary = [max(p, key=p.get) for p in probs]
    conf = np.array([p[g] for p, g in zip(probs, primary)])
    top3 = [t in sorted(p, key=p.get, reverse=True)[:3] for t, p in zip(truth, probs)]
    correct = np.array([t == g for t, g in zip(truth, primary)])
    log_loss = -np.mean([np.log(max(p.get(t, 0.0), 1e-6)) for t, p in zip(truth, probs)])
    ece, table = calibration(conf, correct)
    print(f"\n{title}")
    print(f"top-1 accuracy {correct.mean():.3f} · top-3 {np.mean(top3):.3f} · mean confidence {conf.mean():.3f} · ECE {ece:.3f}"
          f" · log loss {log_loss:.3f}")
    print("\n| true genre | top-1 correct | predicted (count) |\n|---|---:|---|")
    for g in GENRES:
        got = Counter(p_ for t, p_ in zip(truth, primary) if t == g)
        print(f"| {g} | {got.get(g, 0)}/{sum(got.values())} | {', '.join(f'{k} {v}' for k, v in got.most_common())} |")
    print("\n| confidence bin | songs | mean confidence | accuracy |\n|---|---:|---:|---:|")
    for name, n, c, a in table:
        print(f"| {name} | {n} | {c:.3f} | {a:.3f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-genre", type=int, default=4)
    p.add_argument("--seed", type=int, default=7, help="the songs scored")
    p.add_argument("--train-seeds", type=int, nargs="*", default=[],
                   help="also fit the linear model (genre_model.py) on these seeds' songs and score it on --seed")
    p.add_argument("--sharpness", type=float, default=None, help="override theory.genre_sharpness")
    p.add_argument("--fit-sharpness", action="store_true",
                   help="also print the sharpness that minimises the log loss on these songs (fit on one seed, test on another)")
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    if args.sharpness is not None:
        cfg["theory"]["genre_sharpness"] = args.sharpness
    sharpness = cfg["theory"]["genre_sharpness"]
    rules = genre.RulesGenreModel()
    folder = Path(tempfile.mkdtemp(prefix="mirray-genre-"))
    truth, feats = song_features(args.per_genre, args.seed, cfg, folder)
    raw = [rules.predict(f) for f in feats]
    report(f"Rules model (sharpness {sharpness}), audio + theory (no tags), {len(truth)} songs, {args.per_genre} per genre, "
           f"seed {args.seed}", truth, [genre.scores_to_probs(r, sharpness) for r in raw])
    if args.train_seeds:
        train_truth, train_feats = [], []
        for seed in args.train_seeds:
            t, f = song_features(args.per_genre, seed, cfg, folder)
            train_truth += t
            train_feats += f
        model, cv = fit_best(train_feats, train_truth)  # as `mirray genre-fit` does: C by cross-validated log loss
        report(f"Linear model fitted on seeds {' '.join(map(str, args.train_seeds))} ({len(train_truth)} songs; C={model.params['c']:g} "
               f"chosen by 5-fold log loss on them, {cv[model.params['c']][0]:.3f} cross-validated top-1), scored on seed {args.seed}",
               truth, [model.predict(f) for f in feats])
    if args.fit_sharpness:
        def log_loss(gamma: float) -> float:
            return -float(np.mean([np.log(max(genre.scores_to_probs(r, gamma).get(t, 0.0), 1e-6)) for r, t in zip(raw, truth)]))
        grid = np.round(np.arange(0.5, 8.01, 0.25), 2)
        best = min(grid, key=log_loss)
        print(f"\nsharpness minimising log loss on these songs: {best} (log loss {log_loss(best):.3f}; at 1.0: {log_loss(1.0):.3f})")


if __name__ == "__main__":
    main()
