"""Global key on music made differently from the GM pop corpus: Bach chorales rendered from music21's corpus.

Songs: mirray.corpus.chorales (key read from the score, random transposition, tempo and GM instrument;
needs fluidsynth + a GM soundfont). mirray runs every CPU stage twice: as configured and with the
final-cadence cue off (``mir.key_end_cadence_weight: 0``), to show what the cue does on its own. Essentia's
KeyExtractor (edma, as in mir_eval_bench.py, and bgate) on the same MP3s when it is installed. Scored with
mir_eval's MIREX weighted score, with the share of each error kind. Also tempo against the rendered quarter
note (acc1/acc2), mirray vs Essentia's RhythmExtractor2013: music without drums.

    .venv/bin/python benchmarks/chorale_key_bench.py [--chorales 100] [--dir DIR] [--no-essentia]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import mir_eval
import numpy as np

from mir_eval_bench import add_set_option, calibration_error, mirray_run, tempo_accuracy  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.chorales import render_chorales

KINDS = {1.0: "exact", 0.5: "fifth", 0.3: "relative", 0.2: "parallel", 0.0: "other"}


def essentia_keys(path: Path, profiles: tuple[str, ...]) -> tuple[dict[str, str], float]:
    """KeyExtractor's key per profile, and RhythmExtractor2013's tempo."""
    import essentia.standard as es

    y = es.MonoLoader(filename=str(path), sampleRate=44100)()
    keys = {p: " ".join(es.KeyExtractor(profileType=p)(y)[:2]) for p in profiles}
    return keys, float(es.RhythmExtractor2013(method="multifeature")(y)[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chorales", type=int, default=100)
    p.add_argument("--dir", type=Path, help="render into this folder instead of a temporary one")
    p.add_argument("--no-essentia", dest="essentia", action="store_false")
    add_set_option(p)
    args = p.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="mirray-chorales-"))
    songs = render_chorales(folder, args.chorales)
    cfg = load_config(overrides=args.set)
    no_cue = copy.deepcopy(cfg)
    no_cue["mir"]["key_end_cadence_weight"] = 0.0
    systems = {"mirray": cfg, "mirray, no final-cadence cue": no_cue}
    estimates: dict[str, list[str | None]] = {name: [] for name in systems}
    profiles = ("edma", "bgate") if args.essentia else ()
    estimates.update({f"Essentia KeyExtractor {p}": [] for p in profiles})
    minutes, confidences = 0.0, []
    tempi: dict[str, list[tuple[float, float]]] = {"mirray": [], "Essentia RhythmExtractor2013": []}
    for i, song in enumerate(songs):
        for name, c in systems.items():
            row, _ = mirray_run(song["path"], c)
            if row["error"]:
                print(f"{song['path'].name}: error {row['error']['message']}")
            estimates[name].append(row.get("key"))
            if name == "mirray":
                tempo_bpm = row.get("tempo_bpm")
                confidences.append(row.get("key_confidence") or 0.0)
                tempi["mirray"].append(tempo_accuracy(tempo_bpm, song["tempo_qpm"]))
        minutes += (row.get("decoded_duration_sec") or 0.0) / 60
        if profiles:
            keys, essentia_bpm = essentia_keys(song["path"], profiles)
            for prof, key in keys.items():
                estimates[f"Essentia KeyExtractor {prof}"].append(key)
            tempi["Essentia RhythmExtractor2013"].append(tempo_accuracy(essentia_bpm, song["tempo_qpm"]))
        print(f"[{i + 1}/{len(songs)}] {song['source']} → {song['key']}, {song['tempo_qpm']} qpm, GM {song['program']}: "
              f"mirray {estimates['mirray'][-1]}, {tempo_bpm or 0:.1f} BPM", flush=True)
    print(f"\nBach chorales, global key: {len(songs)} pieces, {minutes:.1f} audio min, "
          f"{sum(s['key'].endswith('minor') for s in songs)} in minor")
    print("| system | MIREX weighted | exact | fifth | relative | parallel | other |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, keys in estimates.items():
        scores = [mir_eval.key.weighted_score(s["key"], k) if k else 0.0 for s, k in zip(songs, keys)]
        shares = [np.mean([sc == v for sc in scores]) for v in KINDS]
        print(f"| {name} | {np.mean(scores):.3f} | " + " | ".join(f"{s:.2f}" for s in shares) + " |")
    print("\nTempo on the same chorales (truth: the quarter note at the rendered qpm; no drums)")
    print("| system | tempo acc1 | tempo acc2 |\n|---|---:|---:|")
    for name, hits in tempi.items():
        if hits:
            print(f"| {name} | {np.mean([h[0] for h in hits]):.3f} | {np.mean([h[1] for h in hits]):.3f} |")
    right = np.array([k == s["key"] for s, k in zip(songs, estimates["mirray"])], dtype=float)
    conf = np.array(confidences)
    print(f"\nmirray key_confidence: mean {conf.mean():.3f} vs exact-key accuracy {right.mean():.3f}; "
          f"expected calibration error (5 bins) {calibration_error(conf, right):.3f}")


if __name__ == "__main__":
    main()
