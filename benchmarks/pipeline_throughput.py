"""Whole-pipeline throughput on one Ray node: `graph.run` (hash → decode → Demucs → MIR → theory → Parquet)
over generated MP3s, as `mirray run` does it.

    .venv/bin/python benchmarks/pipeline_throughput.py --songs 4 --song-sec 30 --tiny   # this machine (CPU)
    bash benchmarks/gpu_pipeline.sh                                                    # a lent GPU machine

Songs are numpy-synthesised (corpus/synth.py: drums, bass, chords, a sung-like lead) and written as MP3s
by libsndfile, so no fluidsynth is needed. Demucs runs the full htdemucs layout with random weights
(the released model's compute) unless --tiny. Prints the run's own summary line, then a table per run:
songs/hour, audio minutes per wall minute, the GPU's mean utilisation (nvidia-smi, sampled) and each
stage's cost from the run's metrics/ table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))




def _write_song(args: tuple) -> float:
    from mirray.corpus.synth import render_clip, write_mp3
    from mirray.udfs.mir import PITCH_CLASSES

    i, folder, song_sec = args
    tempo_bpm = 80.0 + (i * 37) % 90
    samples, _ = render_clip(tempo_bpm, PITCH_CLASSES[i % 12], ("major", "minor")[i % 2], song_sec, seed=i)
    write_mp3(Path(folder) / f"song{i:04d}.mp3", samples, 44100,
              tags={"title": f"Song {i}", "artist": "mirray bench", "genre": ("Pop", "Rock", "Jazz")[i % 3]})
    return song_sec


def write_songs(folder: Path, n: int, song_sec: float, workers: int) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_write_song, [(i, str(folder), song_sec) for i in range(n)]))


class GpuSampler:
    """Mean GPU utilisation (%) from nvidia-smi every ``period_sec`` while running; None without a GPU."""

    def __init__(self, period_sec: float = 0.5):
        self.period_sec, self.samples, self._stop = period_sec, [], threading.Event()
        self.ok = shutil.which("nvidia-smi") is not None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.period_sec):
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                self.samples.append(float(out.stdout.split()[0]))

    def __enter__(self):
        if self.ok:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def stage_table(out: Path, audio_min: float) -> list[str]:
    import pyarrow.parquet as pq

    metrics = pq.read_table(out / "metrics").to_pandas()
    by = metrics.groupby("stage")[["wall_sec", "cpu_sec"]].sum()
    lines = ["| stage | wall s per audio min (summed over songs) | process CPU s per audio min |", "|---|---:|---:|"]
    for stage, r in by.sort_values("wall_sec", ascending=False).iterrows():
        lines.append(f"| {stage} | {r.wall_sec / audio_min:.3f} | {r.cpu_sec / audio_min:.3f} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", type=int, default=8)
    ap.add_argument("--song-sec", type=float, default=180.0)
    ap.add_argument("--tiny", action="store_true", help="tiny Demucs (CPU smoke run) instead of the full htdemucs layout")
    ap.add_argument("--num-gpus", nargs="+", default=["auto"],
                    help="one pipeline run per value of resources.separation.num_gpus, e.g. 1 0.5 (0.5 allows two actors per GPU)")
    ap.add_argument("--max-actors", default="auto")
    ap.add_argument("--workdir", help="default: a new temp folder")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config overrides")
    args = ap.parse_args()

    import ray

    from mirray.config import load_config
    from mirray.corpus.tiny_demucs import write_full_htdemucs, write_tiny_htdemucs
    from mirray.pipeline import graph

    work = Path(args.workdir or tempfile.mkdtemp(prefix="mirray-pipe-"))
    t0 = time.perf_counter()
    audio_sec = write_songs(work / "songs", args.songs, args.song_sec, os.cpu_count() or 1)
    print(f"wrote {args.songs} MP3s ({audio_sec / 60:.1f} audio min) in {time.perf_counter() - t0:.1f} s", flush=True)
    repo = work / "models"
    model = "tiny_htdemucs" if args.tiny else "htdemucs_random"
    (write_tiny_htdemucs if args.tiny else write_full_htdemucs)(repo, model)

    ray.init(logging_level="WARNING")
    res = ray.cluster_resources()
    gpu_name = ""
    if res.get("GPU"):
        gpu_name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
    print(f"Ray node: {res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs {gpu_name}", flush=True)
    if not res.get("GPU") and any(g != "auto" and float(g) > 0 for g in args.num_gpus):
        print("error: --num-gpus asks for GPUs but Ray sees none (the actors would wait forever)", file=sys.stderr)
        return 2

    rows = []
    for gpus in args.num_gpus:
        cfg = load_config(None, [f"separation.model={model}", f"separation.model_repo={repo}",
                                 f"resources.separation.num_gpus={gpus}",
                                 f"resources.separation.max_actors={args.max_actors}", *args.set])
        stems = f"model {model}" if cfg["separation"]["enabled"] else "stems off"
        out = work / f"out-gpus-{gpus}"
        shutil.rmtree(out, ignore_errors=True)  # a reused --workdir would otherwise skip the songs as done
        with GpuSampler() as gpu:
            summary = graph.run(str(work / "songs"), str(out), cfg)
        print(summary.line(), flush=True)
        audio_min = summary.audio_sec / 60
        util = gpu.mean()
        rows.append((gpus, summary, util))
        print(f"\nstage costs, num_gpus={gpus}:", *stage_table(out, audio_min), sep="\n")
    ray.shutdown()

    print(f"\nmirray pipeline, {args.songs} songs x {args.song_sec:.0f} s, {stems}, Ray node {res.get('CPU', 0):g} CPUs "
          f"{res.get('GPU', 0):g} GPUs {gpu_name}")
    print("| num_gpus per actor | processed | failed | wall s | audio min / wall min | songs / hour | GPU util % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for gpus, s, util in rows:
        rt = s.audio_sec / s.wall_sec if s.wall_sec else 0.0
        print(f"| {gpus} | {s.processed} | {s.failed} | {s.wall_sec:.1f} | {rt:.1f} | {s.processed / s.wall_sec * 3600:.0f} | "
              f"{'n/a' if util is None else f'{util:.0f}'} |")
    return 0 if all(s.failed == 0 and s.processed == args.songs for _, s, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
