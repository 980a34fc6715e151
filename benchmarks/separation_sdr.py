"""Per-stem SDR of mirray's Demucs stage on generated songs whose true stems are known.

Songs come from mirray.corpus.synth.render_stems (drums, bass, chords as "other", a sung-like
melody as "vocals"; the mix is exactly their sum). SDR is the global signal-to-distortion ratio
10*log10(|s|^2 / |s - s_hat|^2) per stem over the whole song (mir_eval's bss_eval is too slow for
full songs). Two reference rows bound the table: "mix / 4" (every stem guessed as a quarter of the
mix) and the true stems (infinite SDR, not printed).

    .venv/bin/python benchmarks/separation_sdr.py --model htdemucs            # pretrained, where reachable
    .venv/bin/python benchmarks/separation_sdr.py --model NAME --repo DIR     # a local Demucs repo
    .venv/bin/python benchmarks/separation_sdr.py                            # tiny random model (harness check)
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

from mirray.corpus.synth import render_stems
from mirray.udfs import separation

STEMS = ("vocals", "drums", "bass", "other")


def sdr_db(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum((ref - est) ** 2), 1e-20)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None)
    p.add_argument("--repo", default=None)
    p.add_argument("--songs", type=int, default=4)
    p.add_argument("--song-sec", type=float, default=20.0)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    if args.model is None:
        from mirray.corpus.tiny_demucs import write_tiny_htdemucs

        args.repo, args.model = str(write_tiny_htdemucs(tempfile.mkdtemp())), "tiny_htdemucs"
    model = separation.load_model(args.model, args.repo)
    sep = separation.Separator(model, separation.pick_device(args.device))
    keys = [("A", "minor"), ("Eb", "major"), ("F#", "minor"), ("C", "major"), ("Bb", "minor"), ("G", "major")]
    scores = {"model": {s: [] for s in STEMS}, "mix / 4": {s: [] for s in STEMS}}
    for i in range(args.songs):
        tonic, mode = keys[i % len(keys)]
        stems, _ = render_stems(90 + 11 * i, tonic, mode, args.song_sec, seed=i, vocals=True)
        true = {k: np.stack([v, v * 0.98], axis=1) for k, v in stems.items()}  # same panning as render_clip
        mix = sum(true.values())
        blocks = []
        sep.separate_many([mix], [blocks.append])
        est = np.concatenate(blocks, axis=1)  # (sources, frames, 2)
        for j, name in enumerate(sep.sources):
            scores["model"][name].append(sdr_db(true[name], est[j]))
            scores["mix / 4"][name].append(sdr_db(true[name], mix / 4))
    print(f"\nPer-stem SDR (dB, median over {args.songs} generated songs x {args.song_sec:.0f} s), model {args.model}")
    print("| estimate | " + " | ".join(STEMS) + " | mean |")
    print("|---|" + "---:|" * (len(STEMS) + 1))
    for label, per in scores.items():
        med = [float(np.median(per[s])) for s in STEMS]
        print(f"| {label} | " + " | ".join(f"{m:.2f}" for m in med) + f" | {np.mean(med):.2f} |")


if __name__ == "__main__":
    main()
