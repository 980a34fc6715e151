"""Tempo, beats, downbeats and meter on real compositions without drums: string quartets, piano music and
vocal polyphony from music21's corpus, rendered with beats known from the score (mirray.corpus.scores).

Music the GM generator never writes: expressive-free but real textures (running sixteenths, held chords,
syncopated ragtime, staggered polyphonic entries). Beat unit from the time signature (quarter in 2/4, 3/4,
4/4; dotted quarter in 6/8, 9/8; half in 2/2). mirray against Essentia's RhythmExtractor2013 (multifeature)
and librosa's beat_track, scored with mir_eval (tempo acc1/acc2 at 4 %, beat F at ±70 ms). mirray's meter:
downbeat F and "meter class" (duple vs triple beats per bar: mirray names 3 or 4 beats, so a 2/4 read as
4/4 counts as right there but halves its downbeat F).

    .venv/bin/python benchmarks/score_beats_bench.py [--pieces 60] [--seed 11] [--dir DIR] [--no-essentia] [--misses]
"""

from __future__ import annotations

import argparse
import collections
import pickle
import tempfile
from pathlib import Path

import mir_eval
import numpy as np

from mir_eval_bench import add_set_option, mirray_run, tempo_accuracy  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.scores import render_scores


def beats_score(truth: dict, est: dict) -> dict:
    acc1, acc2 = tempo_accuracy(est.get("tempo_bpm"), truth["tempo_bpm"])
    ref = mir_eval.beat.trim_beats(np.asarray(truth["beat_times_sec"]))
    out = {"tempo_acc1": acc1, "tempo_acc2": acc2,
           "beat_f": mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(np.asarray(est.get("beat_times_sec") or [])))}
    if "downbeat_times_sec" in est:
        out["downbeat_f"] = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(truth["downbeat_times_sec"])),
                                                    mir_eval.beat.trim_beats(np.asarray(est["downbeat_times_sec"] or [])))
        out["meter_class"] = float(est.get("beats_per_bar") is not None and (est["beats_per_bar"] % 3 == 0) == (truth["beats_per_bar"] % 3 == 0))
    return out


def essentia_beats(path: Path) -> dict:
    import essentia.standard as es

    y = es.MonoLoader(filename=str(path), sampleRate=44100)()
    bpm, beats, *_ = es.RhythmExtractor2013(method="multifeature")(y)
    return {"tempo_bpm": float(bpm), "beat_times_sec": list(beats)}


def librosa_beats(path: Path) -> dict:
    import librosa

    y, sr_hz = librosa.load(path, sr=22050)
    tempo, frames = librosa.beat.beat_track(y=y, sr=sr_hz, hop_length=512)
    return {"tempo_bpm": float(np.atleast_1d(tempo)[0]), "beat_times_sec": librosa.frames_to_time(frames, sr=sr_hz, hop_length=512).tolist()}


def kind(song: dict) -> str:
    return {40: "string quartet", 0: "piano", 52: "choir"}[song["programs"][0]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pieces", type=int, default=60)
    p.add_argument("--seconds", type=float, default=45.0, help="length of each excerpt")
    p.add_argument("--seed", type=int, default=11, help="draws the tempi and the order of the pieces; 11 is the set the defaults were tuned on")
    p.add_argument("--dir", type=Path, help="render into (and reuse from) this folder instead of a temporary one")
    p.add_argument("--no-essentia", dest="essentia", action="store_false")
    p.add_argument("--misses", action="store_true", help="list each piece mirray reads at a wrong tempo")
    add_set_option(p)
    args = p.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="mirray-scores-"))
    index = folder / "songs.pkl"
    recipe = {"pieces": args.pieces, "seconds": args.seconds, "seed": args.seed}
    if index.exists() and pickle.loads(index.read_bytes())["recipe"] == recipe:
        songs = pickle.loads(index.read_bytes())["songs"]
    else:
        songs = render_scores(folder, args.pieces, args.seed, args.seconds)
        index.write_bytes(pickle.dumps({"recipe": recipe, "songs": songs}))
    cfg = load_config(overrides=args.set)
    systems = ["mirray", "essentia RhythmExtractor2013", "librosa beat_track"] if args.essentia else ["mirray", "librosa beat_track"]
    results: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    confidences = []
    for s in songs:
        row, _ = mirray_run(s["path"], cfg)
        ests = {"mirray": row, "librosa beat_track": librosa_beats(s["path"])}
        if args.essentia:
            ests["essentia RhythmExtractor2013"] = essentia_beats(s["path"])
        for name, est in ests.items():
            r = beats_score(s, est)
            results[(name, "all")].append(r)
            results[(name, kind(s))].append(r)
        r = results[("mirray", "all")][-1]
        confidences.append((row.get("tempo_confidence") or 0.0, r["tempo_acc1"]))
        if args.misses and r["tempo_acc1"] < 1:
            print(f"miss: {s['path'].name} {s['source']} {s['time_signature']} {kind(s)}: tempo {s['tempo_bpm']:.1f} -> "
                  f"{row.get('tempo_bpm') or 0:.1f} (ratio {(row.get('tempo_bpm') or 0) / s['tempo_bpm']:.2f}), beat F {r['beat_f']:.2f}, "
                  f"confidence {row.get('tempo_confidence') or 0:.2f}", flush=True)
    minutes = sum(s["beat_times_sec"][-1] for s in songs) / 60
    counts = collections.Counter(kind(s) for s in songs)
    print(f"\nBeats on {len(songs)} rendered score excerpts ({', '.join(f'{n} {k}' for k, n in counts.items())}), {minutes:.0f} audio minutes; "
          f"meters: {dict(collections.Counter(s['time_signature'] for s in songs))}")
    metrics = ["tempo_acc1", "tempo_acc2", "beat_f", "downbeat_f", "meter_class"]
    print("| texture | system | pieces | " + " | ".join(metrics) + " |")
    print("|---|---|---:|" + "---:|" * len(metrics))
    for group in ["all", *sorted(counts)]:
        for name in systems:
            rows = results[(name, group)]
            cells = [f"{np.mean([r[m] for r in rows]):.3f}" if m in rows[0] else "-" for m in metrics]
            print(f"| {group} | {name} | {len(rows)} | " + " | ".join(cells) + " |")
    conf = np.array(confidences)
    low = conf[:, 0] < 0.5
    print(f"\nmirray tempo_confidence < 0.5 on {int(low.sum())} pieces (acc1 there {conf[low, 1].mean() if low.any() else float('nan'):.3f}); "
          f"≥ 0.5 on {int((~low).sum())} (acc1 {conf[~low, 1].mean() if (~low).any() else float('nan'):.3f})")


if __name__ == "__main__":
    main()
