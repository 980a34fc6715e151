"""`mirray run INPUT --out OUT` and `mirray demo`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from mirray.config import load_config
from mirray.udfs.separation import WeightsUnavailableError


def _init_ray(address: str | None) -> None:
    import ray

    if ray.is_initialized():
        return
    # No address and no RAY_ADDRESS: start local Ray in this process rather than attaching to some
    # other `ray start` instance on the host. Under `ray job submit`, RAY_ADDRESS is set.
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    ray.init(address=address, logging_level=logging.WARNING)


def _load(args) -> dict:
    cfg = load_config(args.config, args.set)
    if args.no_stems:
        cfg["separation"]["enabled"] = False
    return cfg


def cmd_run(args) -> int:
    from mirray.pipeline import graph

    cfg = _load(args)
    graph.check_stems(cfg)  # before Ray starts or any song is read
    _init_ray(args.address)
    summary = graph.run(args.input, args.out, cfg)
    print(summary.line(), flush=True)
    return 0


def cmd_demo(args) -> int:
    from mirray.corpus.synth import write_demo_corpus
    from mirray.pipeline import graph

    root = Path(args.dir or tempfile.mkdtemp(prefix="mirray-demo-"))
    inputs, out = root / "input", root / "out"
    truths = write_demo_corpus(inputs, duration_sec=args.duration_sec)
    print(f"mirray demo: wrote {len(truths)} generated MP3s with known tempo and key to {inputs}", flush=True)
    cfg, reason = _load(args), None
    try:
        graph.check_stems(cfg)
    except WeightsUnavailableError as exc:
        reason = f"weights unavailable ({cfg['separation']['model']})"
        cfg["separation"]["enabled"] = False
        print(f"mirray demo: STEMS SKIPPED: {exc}\nmirray demo: every other stage runs; each row records "
              f"stems_status='skipped: {reason}'.", flush=True)
    _init_ray(args.address)
    summary = graph.run(str(inputs), str(out), cfg, stems_skip_reason=reason)
    print(summary.line(), flush=True)
    _print_demo_table(out, truths)
    print(f"\nLook at: {out}/features/*.parquet (one row per song), {out}/errors/, {out}/metrics/, {out}/run.json")
    return 0


def cmd_warmup(args) -> int:
    """Compile and cache librosa's numba code once, in one process.

    Run it after install on every node (make setup, ray_cluster.yaml do). Without it, the first Ray
    workers compile concurrently and can leave a numba cache that crashes later processes (seen here:
    a segfault in librosa's beat tracker after a `ray job submit` run had written the cache).
    """
    import time

    from mirray.config import load_config
    from mirray.corpus.synth import render_clip
    from mirray.pipeline import song

    t0 = time.perf_counter()
    samples, _ = render_clip(120.0, "C", "major", 12.0)
    row = song.new_row({"song_id": "warmup", "uri": "warmup", "file_size_bytes": 0, "duplicate_uris": []}, "warmup")
    song.mir_stage(row, samples, 44100, load_config())  # every MIR step the pipeline runs, same dtypes
    if row["error"]:
        print(f"mirray warmup: a stage failed: {row['error']}", file=sys.stderr)
        return 1
    print(f"mirray warmup: numba code compiled and cached in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_genre_fit(args) -> int:
    """Train the linear genre model on a run's output: labels from the songs' ID3 genre tags (normalised
    to the taxonomy), or from a CSV of song_id,genre; features from the same rows (never the tag)."""
    import csv

    from mirray.pipeline import sinks, storage
    from mirray.udfs import genre
    from mirray.udfs.genre_model import LinearGenreModel, fit_best

    cfg = load_config(args.config, args.set)
    table = sinks.read_columns(args.out, "features", ["song_id", "genre", "tempo_bpm", "tempo_confidence", "time_signature",
                                                      "has_vocals", "chords", "music_theory"], storage.StorageSpec.from_config(cfg))
    if table is None:
        raise ValueError(f"no feature rows under {args.out}/features: run `mirray run INPUT --out {args.out}` first")
    given = {}
    if args.labels:
        with open(args.labels, newline="") as fh:
            given = {r["song_id"]: genre.normalise_tag(r["genre"]) or r["genre"].strip().lower() for r in csv.DictReader(fh)}
    feats, labels = [], []
    for row in table.to_pylist():
        label = given.get(row["song_id"]) if args.labels else genre.normalise_tag(row["genre"])
        mt = row.get("music_theory")
        if label and mt:
            feats.append(genre.features_for_genre(row, mt["harmonic_analysis"] or {}, mt["rhythmic_analysis"] or {}))
            labels.append(label)
    counts = {g: labels.count(g) for g in sorted(set(labels))}
    print(f"mirray genre-fit: {len(labels)} labelled songs of {table.num_rows}: " + ", ".join(f"{g} {n}" for g, n in counts.items()))
    kept = [g for g, n in counts.items() if n >= args.min_songs]
    if len(kept) < 2:
        raise ValueError(f"need at least 2 genres with >= {args.min_songs} songs each (--min-songs); have {counts}")
    if len(kept) < len(counts):
        print(f"mirray genre-fit: leaving out genres with fewer than {args.min_songs} songs: "
              + ", ".join(g for g in counts if g not in kept))
    feats, labels = zip(*[(f, g) for f, g in zip(feats, labels) if g in kept])
    feats, labels = list(feats), list(labels)
    if args.c is None and min(counts[g] for g in kept) >= 2:
        model, scores = fit_best(feats, labels)
        for c, (acc, loss) in scores.items():
            print(f"mirray genre-fit: C={c:g}: cross-validated top-1 accuracy {acc:.3f}, log loss {loss:.3f}")
        print(f"mirray genre-fit: chose C={model.params['c']:g} (lowest log loss); always guessing the commonest genre "
              f"would be right {max(counts[g] for g in kept) / len(labels):.3f} of the time")
    else:  # a fixed C, or too few songs per genre to cross-validate
        model = LinearGenreModel.fit(feats, labels, args.c or 1.0)
        print(f"mirray genre-fit: C={model.params['c']:g}, no cross-validation (--c given, or a genre has one song)")
    model.save(args.model)
    print(f"mirray genre-fit: wrote {args.model}; use it with --set theory.genre_model=linear:{Path(args.model).resolve()}")
    return 0


def _print_demo_table(out: Path, truths: list[dict]) -> None:
    import pandas as pd

    df = pd.read_parquet(out / "features")
    by_title = {t["title"]: t for t in truths}
    print(f"\n{'title':<16} {'tempo true':>10} {'tempo est':>10} {'key true':>10} {'key est':>10}")
    for row in df.sort_values("title").itertuples():
        t = by_title.get(row.title, {})
        print(f"{row.title:<16} {t.get('tempo_bpm', float('nan')):>10.1f} {row.tempo_bpm:>10.2f} {t.get('key', '?'):>10} {row.key:>10}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mirray", description="Distributed music feature extraction on Ray Data.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--config", help="YAML merged over the packaged configs/default.yaml")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one setting, e.g. --set output.rows_per_file=1000 (repeatable)")
        p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else local Ray in process)")
        p.add_argument("--no-stems", action="store_true", help="skip Demucs separation for this run")

    p_run = sub.add_parser("run", help="extract features from every new song under INPUT")
    p_run.add_argument("input", help="folder or s3://bucket/prefix with audio files")
    p_run.add_argument("--out", required=True, help="output folder or s3://bucket/prefix")
    common(p_run)
    p_run.set_defaults(func=cmd_run)

    p_demo = sub.add_parser("demo", help="generate a few MP3s with known answers and run mirray on them")
    p_demo.add_argument("--dir", help="where to put demo input/ and out/ (default: a new temp folder)")
    p_demo.add_argument("--duration-sec", type=float, default=20.0)
    common(p_demo)
    p_demo.set_defaults(func=cmd_demo)

    p_warm = sub.add_parser("warmup", help="compile and cache numba code once (run after install, per node)")
    p_warm.set_defaults(func=cmd_warmup)

    p_fit = sub.add_parser("genre-fit", help="train the linear genre model on a run's tagged (or CSV-labelled) songs")
    p_fit.add_argument("out", help="a run's output folder or s3:// prefix (reads OUT/features)")
    p_fit.add_argument("--model", required=True, help="JSON file to write")
    p_fit.add_argument("--labels", help="CSV with song_id,genre columns (default: the songs' ID3 genre tags)")
    p_fit.add_argument("--min-songs", type=int, default=5, help="leave out genres with fewer labelled songs")
    p_fit.add_argument("--c", type=float, help="inverse L2 regularisation strength (default: chosen by cross-validated log loss)")
    p_fit.add_argument("--config")
    p_fit.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p_fit.set_defaults(func=cmd_genre_fit)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError, WeightsUnavailableError) as exc:  # missing input or weights, bad config, storage refused
        print(f"mirray: error: {exc}", file=sys.stderr)
        if "AWS Error" in str(exc):
            print("mirray: hint: S3 credentials come from the AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                  "~/.aws, instance role); a custom endpoint from AWS_ENDPOINT_URL or storage.s3_endpoint_url", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
