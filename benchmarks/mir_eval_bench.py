"""MIR accuracy and CPU cost on generated songs with known answers, side by side with Essentia.

Songs: mirray.corpus.synth (drums, bass, chords, melody; all 12 tonics in major and minor, 60-180 BPM,
4/4 and 3/4, triad and seventh-chord progressions; every other song in a full pop form with
intro/verse/chorus/bridge/outro sections, whose length the form sets), written as real MP3s; `--corpus gm`
(the default): mirray.corpus.gm_songs; `--corpus genres`: mirray.corpus.gm_genres (genre-styled songs, also
scored per genre). Scored with mir_eval: key (MIREX weighted), tempo, beats,
downbeats, time signature, chords (majmin, sevenths), section boundaries (hit rate at 0.5 s and 3 s) and
section labels (pairwise frame-clustering F, share of time with the true functional label). Essentia
(`pip install essentia`, benchmark only) runs KeyExtractor(edma), RhythmExtractor2013 and
ChordsDetectionBeats on the same decoded audio, and MusicExtractor for the cost comparison; a plain librosa
baseline (benchmarks/librosa_baseline.py: librosa's beat tracker, Krumhansl–Schmuckler key, template + Viterbi
chords, agglomerative sections) shows what librosa's building blocks give without mirray's methods.

    .venv/bin/python benchmarks/mir_eval_bench.py [--songs 32 --song-sec 90]
    # A/B a setting on the same audio, rendered once:
    .venv/bin/python benchmarks/mir_eval_bench.py --cache /tmp/gm2026 --no-essentia --set mir.chord_downbeat_bass=0

CPU cost is process CPU time (all threads) per audio minute, warm (one song run first), with one BLAS/OpenMP
thread (`--blas-threads`) as in the pipeline: Ray starts each CPU task's worker with OMP_NUM_THREADS = its num_cpus
(1), and every core runs its own song. Two BLAS threads on this 2-core machine cost 0.96-0.99 core-s per audio minute
for 0.75 with one, for 3-6 % less wall time (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import mir_eval
import numpy as np

from librosa_baseline import librosa_run  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.synth import POP_FORM, render_clip, write_mp3
from mirray.pipeline import song
from mirray.udfs import audio
from mirray.udfs.mir import PITCH_CLASSES

MODES = [("major", None), ("minor", None), ("major", "pop"), ("major", "jazz")]


def corpus(n: int, song_sec: float, folder: Path) -> list[dict]:
    rng = np.random.default_rng(2026)
    songs = []
    for i in range(n):
        mode, prog = MODES[i % len(MODES)]
        tonic = PITCH_CLASSES[(i * 7) % 12]
        tempo = float(rng.uniform(60, 180))
        bpb = 3 if i % 3 == 2 else 4
        form = POP_FORM if i % 2 == 0 else None  # even songs: intro-verse-chorus-…-outro form, with sections truth
        samples, truth = render_clip(tempo, tonic, mode, song_sec, beats_per_bar=bpb, seed=i, progression=prog,
                                     vocals=i % 4 == 1, form=form)
        path = write_mp3(folder / f"song{i:03d}.mp3", samples, 44100, {"title": f"song {i}"})
        songs.append({**truth, "path": path, "duration_sec": samples.shape[0] / 44100})
    return songs


def gm_mp3(spec, path: Path, detune_cents: float = 0.0) -> tuple[dict, Path, float]:
    """Render a mirray.corpus.gm_songs spec to an MP3 at ``path``: (truth, path, duration in s). With
    ``detune_cents``, played that much sharp (flat if negative) and as much faster, like a tape or
    turntable off speed: every pitch moves off A440, the chord and key names stay (under 50 cents)."""
    from mirray.corpus.gm_songs import render, retime_truth

    stems, truth = render(spec)
    mix = sum(stems.values())
    if detune_cents:
        import soxr

        speed = 2.0 ** (detune_cents / 1200.0)
        mix = soxr.resample(mix, 44100, 44100 / speed)  # read back at 44.1 kHz: pitch and tempo × speed
        truth = retime_truth(truth, lambda t: t / speed)
    return truth, write_mp3(path, mix, 44100, {"title": path.stem}), mix.shape[0] / 44100


def gm_corpus(n: int, folder: Path, seed: int = 2026, tempo_drift: float = 0.0, detune_cents: float = 0.0,
              section_crash: bool = True, soundfont: str | None = None, bars_per_chord: int = 1,
              section_scale: int = 1, modulation_semitones: int = 0) -> list[dict]:
    """Songs played by General MIDI instruments through fluidsynth (mirray.corpus.gm_songs); with
    ``tempo_drift``, the same songs played without a click (``SongSpec.tempo_drift``); with
    ``detune_cents``, played off A440 (``gm_mp3``); without ``section_crash``, no crash cymbal marks the
    sections' first downbeats; with ``soundfont``, every song played by that soundfont's instruments
    instead of the two the corpus was tuned on (the same notes in timbres no setting was chosen on); with
    ``bars_per_chord`` 2, every chord held two bars (a harmonic rhythm no setting was chosen on); with ``section_scale``
    2, every section twice as long (16-bar verses); with ``modulation_semitones`` (1, 2), the last chorus and what follows
    played that much higher (a final-chorus key change; truth["key_segments"])."""
    import dataclasses

    from mirray.corpus.gm_songs import benchmark_specs

    specs = [dataclasses.replace(spec, tempo_drift=tempo_drift, section_crash=section_crash, soundfont=soundfont or spec.soundfont,
                                 bars_per_chord=bars_per_chord, section_scale=section_scale, modulation_semitones=modulation_semitones)
             for spec in benchmark_specs(n, seed)]
    return _render_all(specs, [folder / f"gm{i:03d}.mp3" for i in range(len(specs))], detune_cents)


def _render_all(specs: list, paths: list[Path], detune_cents: float = 0.0) -> list[dict]:
    """Each spec rendered to its path (``gm_mp3``): truth + path, duration in s and the spec."""
    songs = []
    for spec, path in zip(specs, paths):
        truth, path, duration_sec = gm_mp3(spec, path, detune_cents)
        songs.append({**truth, "path": path, "duration_sec": duration_sec, "spec": spec})
    return songs


def genre_corpus(per_genre: int, folder: Path, seed: int, section_crash: bool = True) -> list[dict]:
    """Genre-styled songs (mirray.corpus.gm_genres: rock, pop, blues, jazz, electronic, hip-hop, country,
    classical), ``per_genre`` of each: harmony, grooves, instruments and forms the benchmark corpus does not
    draw (12-bar blues in dominant sevenths, jazz ii7–V7–Imaj7 over a walking bass at 110–200 BPM, boom-chick
    country, drum-less chorales)."""
    import dataclasses

    from mirray.corpus.gm_genres import genre_specs

    specs = [dataclasses.replace(spec, section_crash=section_crash) for spec in genre_specs(per_genre, seed)]
    return _render_all(specs, [folder / f"{spec.genre}{i:03d}.mp3" for i, spec in enumerate(specs)])


def mirray_run(path: Path, cfg: dict) -> tuple[dict, float]:
    data = path.read_bytes()
    cpu0 = time.process_time()
    row = song.process_song({"song_id": "x", "uri": str(path), "file_size_bytes": len(data), "duplicate_uris": []}, data, cfg, "bench")
    return row, time.process_time() - cpu0


def essentia_run(path: Path) -> tuple[dict, float]:
    import essentia.standard as es

    cpu0 = time.process_time()
    y = es.MonoLoader(filename=str(path), sampleRate=44100)()
    key, scale, strength = es.KeyExtractor(profileType="edma")(y)
    bpm, beats, *_ = es.RhythmExtractor2013(method="multifeature")(y)
    frames = [es.Spectrum()(es.Windowing(type="blackmanharris62")(f)) for f in es.FrameGenerator(y, frameSize=4096, hopSize=2048)]
    hpcp = np.array([es.HPCP()(*es.SpectralPeaks()(s)) for s in frames])
    labels, _ = es.ChordsDetectionBeats(hopSize=2048)(hpcp, beats)
    cpu = time.process_time() - cpu0
    return {"key": f"{key} {scale}", "tempo_bpm": float(bpm), "beat_times_sec": list(beats), "chord_labels": labels,
            "chord_beats": list(beats)}, cpu


def essentia_music_extractor_cpu(path: Path) -> float:
    import essentia.standard as es

    cpu0 = time.process_time()
    es.MusicExtractor(lowlevelStats=["mean"], rhythmStats=["mean"], tonalStats=["mean"])(str(path))
    return time.process_time() - cpu0


def _essentia_chords(labels: list[str], beats: list[float], duration: float):
    """Essentia labels ("C", "Am") → intervals + Harte labels. ChordsDetectionBeats gives one label per span
    between consecutive beats (len(beats) − 1); before the first beat and after the last there is none (mir_eval
    scores those as "N"). Before session 17 label i sat on the span before beat i, a beat early (BENCHMARKS.md)."""
    edges = [*beats, duration]
    iv, lab = [], []
    for i, l in enumerate(labels[: len(edges) - 1]):
        iv.append([edges[i], edges[i + 1]])
        lab.append(f"{l[:-1]}:min" if l.endswith("m") else f"{l}:maj")
    return np.array(iv), lab


def tempo_accuracy(tempo_bpm: float | None, truth_bpm: float) -> tuple[float, float]:
    """(acc1, acc2): within 4 % of the truth, or of 1/3, 1/2, 2 or 3 times it (MIREX); 0 without a tempo."""
    if not tempo_bpm:
        return 0.0, 0.0
    return (float(abs(tempo_bpm - truth_bpm) <= 0.04 * truth_bpm),
            float(any(abs(tempo_bpm - f * truth_bpm) <= 0.04 * f * truth_bpm for f in (1, 2, 0.5, 3, 1 / 3))))


def score(truth: dict, est: dict, dur: float) -> dict:
    ref_beats = mir_eval.beat.trim_beats(np.array(truth["beat_times_sec"]))
    acc1, acc2 = tempo_accuracy(est.get("tempo_bpm"), truth["tempo_bpm"])
    out = {
        "key": mir_eval.key.weighted_score(truth["key"], est["key"]) if est.get("key") else 0.0,
        "tempo_acc1": acc1,
        "tempo_acc2": acc2,
        "beat_f": mir_eval.beat.f_measure(ref_beats, mir_eval.beat.trim_beats(np.array(est["beat_times_sec"]))),
    }
    ref_iv = np.array([c[:2] for c in truth["chords"]])
    ref_lab = [c[2] for c in truth["chords"]]
    if "chords" in est:
        est_iv = np.array([[c["start_sec"], c["end_sec"]] for c in est["chords"]])
        est_lab = [c["label"] for c in est["chords"]]
    else:
        est_iv, est_lab = _essentia_chords(est["chord_labels"], est["chord_beats"], dur)
    ch = mir_eval.chord.evaluate(ref_iv, ref_lab, est_iv, est_lab)
    out["chords_majmin"], out["chords_sevenths"] = ch["majmin"], ch["sevenths"]
    if "downbeat_times_sec" in est:
        out["downbeat_f"] = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.array(truth["downbeat_times_sec"])),
                                                    mir_eval.beat.trim_beats(np.array(est["downbeat_times_sec"])))
        out["time_signature"] = float(est["time_signature"] == truth.get("time_signature", f"{truth['beats_per_bar']}/4"))
    if "sections" in truth and "sections" in est:
        ref_iv = np.array([s_[:2] for s_ in truth["sections"]])
        est_iv = np.array([[s_["start_sec"], s_["end_sec"]] for s_ in est["sections"]])
        out["sections_hr0.5_f"] = mir_eval.segment.detection(ref_iv, est_iv, window=0.5)[2]
        out["sections_hr3_f"] = mir_eval.segment.detection(ref_iv, est_iv, window=3.0)[2]
        if all(s_["label"] is not None for s_ in est["sections"]):  # the librosa baseline has boundaries only
            out.update(section_labels(truth["sections"], est["sections"]))
    return out


def section_labels(ref: list, est: list[dict], step_sec: float = 0.1) -> dict:
    """Label agreement of sections: pairwise frame-clustering F (mir_eval; do the same parts repeat?) and
    the share of the song's time whose functional label (intro, verse, chorus, ...) is the true one."""
    ref_iv = np.array([s_[:2] for s_ in ref])
    est_iv = np.array([[s_["start_sec"], s_["end_sec"]] for s_ in est])
    est_iv, est_lab = mir_eval.util.adjust_intervals(est_iv, [s_["label"] for s_ in est], t_min=ref_iv[0, 0], t_max=ref_iv[-1, 1])
    grid = np.arange(ref_iv[0, 0], ref_iv[-1, 1], step_sec)
    at = lambda iv, lab, t: lab[min(int(np.searchsorted(iv[:, 0], t, side="right")) - 1, len(lab) - 1)]  # noqa: E731
    t0 = ref_iv[0, 0]  # mir_eval wants both to start at 0: measure from the song's first section
    return {"sections_pairwise_f": mir_eval.segment.pairwise(ref_iv - t0, [s_[2] for s_ in ref], est_iv - t0, est_lab)[2],
            "sections_label_acc": float(np.mean([at(ref_iv, [s_[2] for s_ in ref], t) == at(est_iv, est_lab, t) for t in grid]))}


def calibration_error(confidence, right, bins: int = 5) -> float:
    """Expected calibration error: |mean confidence − accuracy| per equal-width bin, weighted by its share."""
    confidence, right = np.asarray(confidence, dtype=float), np.asarray(right, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum((which == b).mean() * abs(confidence[which == b].mean() - right[which == b].mean())
                     for b in range(bins) if (which == b).any()))


def cached_or_rendered(args) -> list[dict]:
    """The corpus the arguments name: rendered into a new temp folder, or with ``--cache`` loaded from (or
    rendered into and saved to) that folder; a cache made with other corpus arguments is an error."""
    import pickle

    recipe = {k: getattr(args, k) for k in ("corpus", "songs", "song_sec", "seed", "tempo_drift", "detune_cents")}
    if not args.section_crash:  # only then: caches made before this option keep matching
        recipe["section_crash"] = False
    if args.soundfont:  # likewise
        recipe["soundfont"] = args.soundfont
    for knob in ("bars_per_chord", "section_scale"):  # likewise
        if getattr(args, knob, 1) != 1:
            recipe[knob] = getattr(args, knob)
    if getattr(args, "modulate", 0):  # likewise
        recipe["modulate"] = args.modulate
    index = args.cache / "songs.pkl" if args.cache else None
    if index and index.exists():
        saved = pickle.loads(index.read_bytes())
        if saved["recipe"] != recipe:
            raise SystemExit(f"--cache {args.cache} holds {saved['recipe']}, not {recipe}: use another folder")
        return saved["songs"]
    folder = args.cache or Path(tempfile.mkdtemp(prefix="mirray-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.corpus == "gm":
        songs = gm_corpus(args.songs, folder, args.seed, args.tempo_drift, args.detune_cents, args.section_crash, args.soundfont,
                           getattr(args, "bars_per_chord", 1), getattr(args, "section_scale", 1), getattr(args, "modulate", 0))
    elif args.corpus == "genres":
        songs = genre_corpus(max(1, args.songs // 8), folder, args.seed, args.section_crash)
    else:
        songs = corpus(args.songs, args.song_sec, folder)
    if index:
        index.write_bytes(pickle.dumps({"recipe": recipe, "songs": songs}))
    return songs


def add_set_option(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable), for ``load_config(overrides=args.set)``: every benchmark can A/B a setting."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one mirray setting for this run, e.g. --set mir.chord_downbeat_bass=0 (repeatable): A/B a change")


def add_modulate_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--modulate", type=int, default=0, metavar="SEMITONES",
                   help="gm corpus: play the last chorus (last verse without one) and what follows this many semitones up, pop's "
                        "final-chorus key change (the song's key stays the first one; the theory benchmark scores key over time)")


def add_threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--blas-threads", type=int, default=1, metavar="N",
                   help="BLAS/OpenMP threads while timing (threadpoolctl); 1 is what a Ray CPU task with num_cpus=1 gets, "
                        "0 leaves the library default (every core)")


def blas_threads(n: int) -> contextlib.AbstractContextManager:
    """Cap BLAS/OpenMP pools at ``n`` threads for the timed runs; ``n`` = 0: the libraries' defaults."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(n) if n > 0 else contextlib.nullcontext()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=32)
    p.add_argument("--song-sec", type=float, default=90.0, help="length of the songs without a form")
    p.add_argument("--corpus", choices=("gm", "synth", "genres"), default="gm",
                   help="gm: General MIDI instruments via fluidsynth (needs fluidsynth + a GM soundfont); synth: numpy synthesis; "
                        "genres: genre-styled GM songs (--songs / 8 per genre)")
    p.add_argument("--seed", type=int, default=2026, help="gm corpus: 2026 is the benchmark set, another seed a held-out set of new songs")
    p.add_argument("--tempo-drift", type=float, default=0.0,
                   help="gm corpus: the tempo wanders with this std (0.03 = ±3 %%), as a band without a click plays")
    p.add_argument("--detune-cents", type=float, default=0.0,
                   help="gm corpus: play the songs this many cents sharp (and as much faster), as off-speed tape or vinyl")
    p.add_argument("--no-section-crash", dest="section_crash", action="store_false",
                   help="gm and genre corpora: no crash cymbal on the sections' first downbeats (what the crash cue adds)")
    p.add_argument("--soundfont", metavar="SF2",
                   help="gm corpus: play every song with this soundfont, e.g. /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 "
                        "(apt musescore-general-soundfont-small) or OPL-3_FM_128M.sf2 (opl3-soundfont): timbres no setting was tuned on")
    p.add_argument("--bars-per-chord", type=int, default=1, metavar="N",
                   help="gm corpus: hold every chord N bars (2: a slower harmonic rhythm than the corpus was tuned on)")
    p.add_argument("--section-scale", type=int, default=1, metavar="N",
                   help="gm corpus: every section N times as long (2: 16-bar verses; with --bars-per-chord 2 the same songs at half the harmonic pace)")
    add_modulate_option(p)
    p.add_argument("--no-essentia", dest="essentia", action="store_false")
    p.add_argument("--no-librosa", dest="librosa", action="store_false", help="skip the plain librosa baseline")
    add_set_option(p)
    add_threads_option(p)
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="keep the rendered songs here and reuse them on later runs with the same corpus arguments "
                        "(rendering is most of a run; an A/B then scores the same audio)")
    p.add_argument("--misses", action="store_true", help="also list the songs mirray gets wrong (tempo, key, majmin < 0.8)")
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    songs = cached_or_rendered(args)
    with blas_threads(args.blas_threads):
        measure(args, cfg, songs)


def measure(args: argparse.Namespace, cfg: dict, songs: list[dict]) -> None:
    mirray_run(songs[0]["path"], cfg)  # warm: numba, caches
    results = {"mirray": [], "essentia": [], "librosa baseline": []}
    cost = {"mirray": 0.0, "essentia (these 3 extractors)": 0.0, "essentia MusicExtractor": 0.0, "librosa baseline": 0.0}
    steps: dict[str, float] = {}
    key_calibration: list[tuple[float, bool]] = []
    tempo_calibration: list[tuple[float, bool]] = []
    if args.essentia:
        essentia_run(songs[0]["path"])
    if args.librosa:
        librosa_run(songs[0]["path"])
    for s in songs:
        row, cpu = mirray_run(s["path"], cfg)
        cost["mirray"] += cpu
        for m in row["metrics"]:
            steps[m["stage"]] = steps.get(m["stage"], 0.0) + m["cpu_sec"]
        results["mirray"].append(score(s, row, s["duration_sec"]))
        r = results["mirray"][-1]
        if args.misses and (r["tempo_acc1"] < 1 or r["key"] < 1 or r["chords_majmin"] < 0.8):
            print(f"miss: {s['path'].name} tempo {s['tempo_bpm']:.1f} -> {row.get('tempo_bpm') or 0:.1f}, key {s['key']} -> {row.get('key')}, "
                  f"beat F {r['beat_f']:.2f}, majmin {r['chords_majmin']:.2f}", flush=True)
        key_calibration.append((row.get("key_confidence") or 0.0, row.get("key") == s["key"]))
        tempo_calibration.append((row.get("tempo_confidence") or 0.0, r["tempo_acc1"] == 1))
        if args.essentia:
            est, cpu = essentia_run(s["path"])
            cost["essentia (these 3 extractors)"] += cpu
            results["essentia"].append(score(s, est, s["duration_sec"]))
            cost["essentia MusicExtractor"] += essentia_music_extractor_cpu(s["path"])
        if args.librosa:
            est, cpu = librosa_run(s["path"])
            cost["librosa baseline"] += cpu
            results["librosa baseline"].append(score(s, est, s["duration_sec"]))
    minutes = sum(s["duration_sec"] for s in songs) / 60
    metrics = ["key", "tempo_acc1", "tempo_acc2", "beat_f", "downbeat_f", "time_signature", "chords_majmin", "chords_sevenths",
               "sections_hr0.5_f", "sections_hr3_f", "sections_pairwise_f", "sections_label_acc"]
    played = f", played by {Path(args.soundfont).name}" if args.soundfont else ""
    played += f", chords held {args.bars_per_chord} bars" if args.bars_per_chord != 1 else ""
    played += f", sections {args.section_scale}x as long" if args.section_scale != 1 else ""
    played += f", last chorus {args.modulate:+d} semitones" if args.modulate else ""
    print(f"\nMIR accuracy on {len(songs)} generated songs ({args.corpus} corpus{played}), {minutes:.0f} audio minutes (mir_eval; key = MIREX weighted score;"
          " sections on the songs with a form)")
    print("| system | " + " | ".join(metrics) + " |")
    print("|---|" + "---:|" * len(metrics))
    for name, rows in results.items():
        if rows:
            print(f"| {name} | " + " | ".join(f"{np.mean([r[m] for r in rows if m in r]):.3f}" if any(m in r for r in rows) else "-" for m in metrics) + " |")
    if args.corpus == "genres":
        by_genre = ["key", "tempo_acc1", "beat_f", "downbeat_f", "chords_majmin", "chords_sevenths", "sections_hr3_f"]
        print("\nPer genre (" + ", ".join(results) + " where run)")
        print("| genre | system | " + " | ".join(by_genre) + " |")
        print("|---|---|" + "---:|" * len(by_genre))
        for g in dict.fromkeys(s["spec"].genre for s in songs):
            for name, rows in results.items():
                mine = [r for s, r in zip(songs, rows) if s["spec"].genre == g]
                if mine:
                    print(f"| {g} | {name} | " + " | ".join(f"{np.mean([r[m] for r in mine if m in r]):.3f}" if any(m in r for r in mine) else "-"
                                                           for m in by_genre) + " |")
    for what, pairs, hit in (("key_confidence", key_calibration, "exact-key"), ("tempo_confidence", tempo_calibration, "tempo acc1")):
        conf, right = np.array(pairs).T
        print(f"\nmirray {what}: mean {conf.mean():.3f} vs {hit} accuracy {right.mean():.3f}; "
              f"expected calibration error (5 bins) {calibration_error(conf, right):.3f}; accuracy where < 0.5: "
              + (f"{right[conf < 0.5].mean():.3f} ({int((conf < 0.5).sum())} songs)" if (conf < 0.5).any() else "- (0 songs)"))
    threads = f"{args.blas_threads} BLAS thread(s)" if args.blas_threads else "default BLAS threads"
    print(f"\nCPU cost, core-seconds per audio minute (warm, {threads}), over {minutes:.0f} audio minutes")
    print("| what | core-s per audio min |")
    print("|---|---:|")
    for name, c in cost.items():
        if c:
            print(f"| {name} | {c / minutes:.3f} |")
    for name, c in steps.items():
        print(f"| mirray step: {name} | {c / minutes:.3f} |")
    print(f"\nmirray theory + genre step: {steps.get('theory', 0.0) / len(songs):.3f} core-s per song (warm, mean song "
          f"{minutes * 60 / len(songs):.0f} s)")


if __name__ == "__main__":
    main()
