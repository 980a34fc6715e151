"""Where to read a chord's seventh: evidence on the true chord spans of rendered GM songs, by chroma source.

For each true major / dominant-seventh / minor / minor-seventh / major-seventh span, the b7 or maj7 evidence that
``chords.add_sevenths`` computes (beat by beat, its 25th percentile), from: the 3-bin treble chroma (C3–B5), the
centre bins only (``treble_centre_chroma``: tempered notes, not 31-cent-flat 7th partials), C3–B4
(``low_treble_chroma``: under the melody) and C4–B5. Prints ROC AUC (weighted by span length) and, at each bar,
the share of seventh time found and the seconds of triads called sevenths. Uses a ``mir_eval_bench.py --cache``.

    .venv/bin/python benchmarks/seventh_evidence_study.py --cache /tmp/gm2026
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import librosa
import numpy as np
from sklearn.metrics import roc_auc_score

from mirray.config import load_config
from mirray.udfs import audio, chords, mir
from mirray.udfs.mir import PITCH_CLASSES

PAIRS = (("b7", "maj", "7"), ("b7", "min", "min7"), ("maj7", "maj", "maj7"))


def sources(cqt: np.ndarray) -> dict:
    return {"C3-B5 (3 bins)": chords.treble_chroma(cqt), "centre bins": chords.treble_centre_chroma(cqt),
            "C3-B4": chords.low_treble_chroma(cqt), "C4-B5": chords._register_chroma(cqt, "C4", 2, np.inf)}


def span_evidence(song: dict, cfg: dict) -> list[tuple[str, float, dict]]:
    """(true quality, span seconds, {(source, tone): evidence}) per true chord span, as the chord stage reads it."""
    sr, hop, mir_cfg = cfg["audio"]["mir_sample_rate_hz"], cfg["mir"]["hop_length"], cfg["mir"]
    x, rate = audio.decode(Path(song["path"]).read_bytes())
    y = audio.resample(audio.to_mono(x), rate, sr)
    _, tuning, cqt = mir.chroma_features(y, sr, hop, with_cqt=True)
    cqt = mir.flatten_tilt(mir.variable_q_bass(y, sr, hop, cqt, tuning, mir_cfg["chord_vqt_gamma_hz"]))
    chroma = sources(cqt)
    times = librosa.frames_to_time(np.arange(cqt.shape[1]), sr=sr, hop_length=hop)
    beats = np.asarray(song["beat_times_sec"])
    out = []
    for a, b, label in song["chords"]:
        root_name, quality = (label.split(":") + ["N"])[:2]
        quality = quality.split("/")[0]
        if quality not in ("maj", "7", "min", "min7", "maj7"):
            continue
        root, minor = PITCH_CLASSES.index(root_name), quality.startswith("min")
        edges = [a, *[t for t in beats if a + 0.05 < t < b - 0.05], b]
        per_beat = []
        for u, v in zip(edges[:-1], edges[1:]):
            frames = (times >= u) & (times < v)
            if frames.any():
                per_beat.append({(name, tone): chords.seventh_evidence(np.median(c[:, frames], axis=1), root, minor)[tone]
                                 for name, c in chroma.items() for tone in ("b7", "maj7")})
        if per_beat:
            out.append((quality, b - a, {k: float(np.quantile([e[k] for e in per_beat], 0.25)) for k in per_beat[0]}))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, required=True, help="a mir_eval_bench.py --cache folder (songs.pkl)")
    p.add_argument("--bars", type=float, nargs="+", default=[0.1, 0.3], help="evidence bars to tabulate")
    args = p.parse_args()
    cfg = load_config()
    spans = [s for song in pickle.loads((args.cache / "songs.pkl").read_bytes())["songs"] for s in span_evidence(song, cfg)]
    for tone, triad, seventh in PAIRS:
        rows = [s for s in spans if s[0] in (triad, seventh)]
        is7 = np.array([s[0] == seventh for s in rows])
        sec = np.array([s[1] for s in rows])
        print(f"\n{tone} evidence, {triad} ({(~is7).sum()} spans) vs {seventh} ({is7.sum()} spans), {args.cache}")
        print("| chroma | ROC AUC | bar | sevenths found (share of time) | triads called sevenths (s) |\n|---|---:|---:|---:|---:|")
        for name in sources(np.zeros((252, 1))):
            value = np.array([s[2][(name, tone)] for s in rows])
            auc = roc_auc_score(is7, value, sample_weight=sec)
            for bar in args.bars:
                found = (sec[is7] * (value[is7] >= bar)).sum() / sec[is7].sum()
                print(f"| {name} | {auc:.3f} | {bar} | {found:.2f} | {(sec[~is7] * (value[~is7] >= bar)).sum():.0f} |")


if __name__ == "__main__":
    main()
