"""How much stems could help MIR: mix-only vs true-stem (oracle) inputs, on the General MIDI corpus.

The GM corpus renders each stem alone, so the true stems are exact. Rows:
- mix: the pipeline's MIR on the mix (what runs today);
- oracle stems: beats, tempo and downbeats from drums + bass; chords and key from bass + other (no melody,
  no drums), on the beat grid of the drums + bass run — the upper bound a stem-aware MIR can reach;
- mix + stem chords: the pipeline with ``mir.chord_source: stems`` fed the true bass + other (beats,
  meter, sections and key on the mix; chords from the stems on that grid, with the bar prior) and the
  true vocals stem (sections without singing are labelled instrumental).
A second table scores section labels (mir_eval pairwise F, share of time with the true label) on the
mix alone and with the vocals stem.
Demucs stems would sit between the two; the pretrained weights cannot be fetched on the dev machine, so
that row is not measured here.

    .venv/bin/python benchmarks/stem_aware_bench.py [--songs 32]
"""

from __future__ import annotations

import argparse

import librosa
import mir_eval
import numpy as np

from mir_eval_bench import add_set_option, section_labels, tempo_accuracy  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.gm_songs import benchmark_specs, render
from mirray.pipeline import song
from mirray.udfs import audio, chords, mir, separation


def analyse(signal: np.ndarray, cfg: dict, harmonic: np.ndarray | None = None, vocals: np.ndarray | None = None) -> dict:
    row = song.new_row({"song_id": "x", "uri": "x", "file_size_bytes": 0, "duplicate_uris": []}, "bench")
    row["decoded_duration_sec"] = signal.shape[0] / 44100
    envelope = None if vocals is None else separation.rms_envelope(vocals, 44100)  # as the Demucs actor records it
    song.mir_stage(row, signal, 44100, cfg, harmonic=harmonic, vocal_envelope=envelope)
    return row


def chords_on(signal: np.ndarray, beat_times_sec: list[float], cfg: dict) -> tuple[list[dict], str | None]:
    """Chords and key of ``signal`` on a given beat grid (the pipeline's tonal step, grid from elsewhere)."""
    mono = audio.resample(audio.to_mono(signal), 44100, 22050)
    hop = cfg["mir"]["hop_length"]
    chroma, tuning_cents, cqt = mir.chroma_features(mono, 22050, hop, with_cqt=True)
    chord_cqt = mir.variable_q_bass(mono, 22050, hop, cqt, tuning_cents, cfg["mir"]["chord_vqt_gamma_hz"])
    chord_chroma = mir.chroma_from_cqt(chord_cqt)
    times = librosa.frames_to_time(np.arange(chroma.shape[1]), sr=22050, hop_length=hop)
    frames = librosa.time_to_frames(beat_times_sec, sr=22050, hop_length=hop)
    first = chords.estimate_chords(chord_chroma, times, frames, len(mono) / 22050, "majmin")
    key = mir.key_from_chroma(chroma.mean(axis=1), cfg["mir"]["key_profile"], first, cfg["mir"]["key_chord_weight"])["key"]
    return chords.estimate_chords(chord_chroma, times, frames, len(mono) / 22050, "sevenths", key=key, key_bonus=cfg["mir"]["chord_key_bonus"],
                                  seventh_chroma=(chords.treble_chroma(chord_cqt), times), compression=cfg["mir"]["chord_compression"]), key  # as the pipeline


def score(truth: dict, beats: list[float], downbeats: list[float], tempo: float | None, est_chords: list[dict], key: str | None) -> dict:
    trim = lambda t: mir_eval.beat.trim_beats(np.asarray(t, dtype=float))  # noqa: E731
    ref_iv = np.array([c[:2] for c in truth["chords"]])
    est_iv = np.array([[c["start_sec"], c["end_sec"]] for c in est_chords])
    ch = mir_eval.chord.evaluate(ref_iv, [c[2] for c in truth["chords"]], est_iv, [c["label"] for c in est_chords])
    return {
        "tempo_acc1": tempo_accuracy(tempo, truth["tempo_bpm"])[0],
        "beat_f": mir_eval.beat.f_measure(trim(truth["beat_times_sec"]), trim(beats)),
        "downbeat_f": mir_eval.beat.f_measure(trim(truth["downbeat_times_sec"]), trim(downbeats)),
        "key": mir_eval.key.weighted_score(truth["key"], key) if key else 0.0,
        "chords_majmin": ch["majmin"], "chords_sevenths": ch["sevenths"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=32)
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    rows: dict[str, list[dict]] = {"mix": [], "oracle stems": [], "mix + stem chords": []}
    labels: dict[str, list[dict]] = {"mix": [], "mix + vocals stem": []}
    instrumental = np.zeros(3, dtype=int)  # true instrumental sections, of them found (half covered), sections labelled so
    minutes = 0.0
    for spec in benchmark_specs(args.songs):
        stems, truth = render(spec)
        mix = sum(stems.values())
        minutes += mix.shape[0] / 44100 / 60
        m = analyse(mix, cfg)
        rows["mix"].append(score(truth, m["beat_times_sec"], m["downbeat_times_sec"], m["tempo_bpm"], m["chords"], m["key"]))
        rhythm = analyse(stems["drums"] + stems["bass"], cfg)
        est_chords, key = chords_on(stems["bass"] + stems["other"], rhythm["beat_times_sec"], cfg)
        rows["oracle stems"].append(score(truth, rhythm["beat_times_sec"], rhythm["downbeat_times_sec"], rhythm["tempo_bpm"],
                                          est_chords, key))
        both = analyse(mix, cfg, harmonic=stems["bass"] + stems["other"], vocals=stems["vocals"])
        rows["mix + stem chords"].append(score(truth, both["beat_times_sec"], both["downbeat_times_sec"], both["tempo_bpm"],
                                               both["chords"], both["key"]))
        labels["mix"].append(section_labels(truth["sections"], m["sections"]))
        labels["mix + vocals stem"].append(section_labels(truth["sections"], both["sections"]))
        solo = [(a, b) for a, b, lab in truth["sections"] if lab == "instrumental"]
        found = [(s_["start_sec"], s_["end_sec"]) for s_ in both["sections"] if s_["label"] == "instrumental"]
        hits = sum(any(min(b, fb) - max(a, fa) >= 0.5 * (b - a) for fa, fb in found) for a, b in solo)
        instrumental += np.array([len(solo), hits, len(found)])
    metrics = list(rows["mix"][0])
    print(f"\nMix-only vs true-stem oracle, {args.songs} GM songs, {minutes:.0f} audio minutes (mir_eval)")
    print("| input | " + " | ".join(metrics) + " |")
    print("|---|" + "---:|" * len(metrics))
    for name, rs in rows.items():
        print(f"| {name} | " + " | ".join(f"{np.mean([r[k] for r in rs]):.3f}" for k in metrics) + " |")
    print("\nSection labels (songs with a form), mix alone vs with the true vocals stem")
    print("| input | sections_pairwise_f | sections_label_acc |\n|---|---:|---:|")
    for name, rs in labels.items():
        print(f"| {name} | {np.mean([r['sections_pairwise_f'] for r in rs]):.3f} | {np.mean([r['sections_label_acc'] for r in rs]):.3f} |")
    print(f"instrumental sections: {instrumental[0]} true, {instrumental[1]} found (half covered by one labelled so), "
          f"{instrumental[2]} sections labelled instrumental")


if __name__ == "__main__":
    main()
