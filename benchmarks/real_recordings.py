"""Robustness on real recordings without annotations: every file must go through all of mirray's CPU
stages without an error; tempo, beats and key are compared with Essentia's on the same files.

Free music from Debian (see ENVIRONMENT notes): `apt-get download pushover-data openclonk-data`,
`dpkg -x` each, then

    .venv/bin/python benchmarks/real_recordings.py DIR [DIR …]

(Ogg Vorbis decodes through libsndfile like MP3 does; Essentia reads it through its own loader.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mir_eval
import numpy as np

from mir_eval_bench import add_set_option, add_threads_option, blas_threads, tempo_accuracy  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.pipeline import song


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+")
    p.add_argument("--min-bytes", type=int, default=500_000, help="skip jingles and effects")
    add_set_option(p)
    add_threads_option(p)
    args = p.parse_args()
    with blas_threads(args.blas_threads):
        report(args)


def report(args: argparse.Namespace) -> None:
    import essentia.standard as es

    files = sorted(f for d in args.dirs for f in Path(d).rglob("*") if f.suffix.lower() in (".ogg", ".mp3", ".flac", ".wav")
                   and f.stat().st_size >= args.min_bytes)
    cfg = load_config(overrides=args.set)
    song.process_song({"song_id": "w", "uri": "w", "file_size_bytes": 0, "duplicate_uris": []}, files[0].read_bytes(), cfg, "warm")
    rows, cpu_mirray, cpu_ess, minutes = [], 0.0, 0.0, 0.0
    for f in files:
        data = f.read_bytes()
        c0 = time.process_time()
        row = song.process_song({"song_id": f.stem, "uri": str(f), "file_size_bytes": len(data), "duplicate_uris": []}, data, cfg, "real")
        cpu_mirray += time.process_time() - c0
        c0 = time.process_time()
        y = es.MonoLoader(filename=str(f), sampleRate=44100)()
        key, scale, _ = es.KeyExtractor(profileType="edma")(y)
        bpm, ticks, *_ = es.RhythmExtractor2013(method="multifeature")(y)
        cpu_ess += time.process_time() - c0
        minutes += len(y) / 44100 / 60
        rows.append((f, row, f"{key} {scale}", float(bpm), np.asarray(ticks, dtype=float)))
    print(f"\nReal recordings: {len(files)} files, {minutes:.1f} audio minutes")
    print("| file | min | mirray error | mirray tempo | tempo confidence | pulse clarity | Essentia tempo | beat F vs Essentia | mirray key "
          "| Essentia key | key score vs Essentia | meter | sections |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|---|---:|")
    by_confidence: dict[bool, list[float]] = {True: [], False: []}
    tempo_agree = tempo_agree2 = key_scores = beat_f = 0.0
    for f, row, ekey, ebpm, eticks in rows:
        err = row["error"]["error_type"] if row["error"] else "-"
        t = row.get("tempo_bpm") or 0.0
        agree, agree2 = tempo_accuracy(t, ebpm)  # Essentia as the reference
        ks = mir_eval.key.weighted_score(ekey, row["key"]) if row.get("key") else 0.0
        tempo_agree += agree
        by_confidence[(row.get("tempo_confidence") or 0.0) >= 0.5].append(agree)
        tempo_agree2 += agree2
        key_scores += ks
        # beat phase, not just tempo: a grid on the off-beats agrees on tempo and scores 0 here
        bf = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(eticks), mir_eval.beat.trim_beats(np.asarray(row.get("beat_times_sec") or [])))
        beat_f += bf
        conf, clarity = row.get("tempo_confidence"), row.get("pulse_clarity")
        print(f"| {f.name} | {(row.get('decoded_duration_sec') or 0) / 60:.1f} | {err} | {t:.1f} | "
              f"{'-' if conf is None else f'{conf:.2f}'} | {'-' if clarity is None else f'{clarity:.2f}'} | {ebpm:.1f} | {bf:.2f} | {row.get('key')} | {ekey} | "
              f"{ks:.1f} | {row.get('time_signature')} | {len(row.get('sections') or [])} |")
    n = len(rows)
    print(f"\nerrors: {sum(r[1]['error'] is not None for r in rows)} of {n}; tempo agreement with Essentia: {tempo_agree / n:.2f} "
          f"(within 4 %), {tempo_agree2 / n:.2f} (allowing octave errors); beat F vs Essentia's beats: {beat_f / n:.2f}; "
          f"key agreement (MIREX weighted, Essentia as reference): {key_scores / n:.2f}")
    print("tempo agreement by mirray tempo_confidence: " + "; ".join(
        f"{'≥ 0.5' if high else '< 0.5'}: {np.mean(v):.2f} ({len(v)} files)" for high, v in by_confidence.items() if v))
    print(f"CPU core-s per audio minute: mirray all CPU stages {cpu_mirray / minutes:.3f}, Essentia key+rhythm {cpu_ess / minutes:.3f}")


if __name__ == "__main__":
    main()
