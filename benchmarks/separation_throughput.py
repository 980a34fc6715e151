"""Demucs separation throughput (audio-seconds per wall-second) and peak memory, by batch size.

The full-size htdemucs layout with random weights (the same compute as the pretrained model, which
cannot be downloaded here), several songs per batch, through mirray's own Separator. Each batch
size runs in a fresh subprocess so peak RSS is its own.

    .venv/bin/python benchmarks/separation_throughput.py [--songs 2 --song-sec 16 --batch-sizes 1 2 4 8 --device auto]
        [--write-stems] [--no-mixed-precision] [--processes 1 2]

``--processes N`` runs N separating processes on the one device at once (as N actors with ``num_gpus: 1/N``
would), each on its own copy of the songs, started together after their warm-up; the row's throughput is all
their audio over the span from the first start to the last finish.

"model busy" is the share of wall time the model thread spends in its call (input copy, forward, output copy
back): the model runs one batch ahead of mirray's CPU side (segment cutting, overlap-add, and with --write-stems
the per-stem FLAC encoder threads of StemFiles), so below 1 the CPU side is the bottleneck. "host cores" is the
process CPU time (all threads) over wall time, summed over processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def child(args) -> None:
    import torch

    from mirray.corpus.synth import render_clip
    from mirray.udfs import separation

    model = separation.load_model(args.model, args.repo)
    device = separation.pick_device(args.device)
    sep = separation.Separator(model, device, segments_per_batch=args.batch_size, mixed_precision=args.mixed_precision)
    mixes = [render_clip(100 + 7 * i, "A", "minor", args.song_sec, seed=i, vocals=True)[0] for i in range(args.songs)]
    warm = [render_clip(120, "C", "major", 8.0)[0]]
    sep.separate_many(warm, [lambda b: None])  # first call pays one-off costs (allocator, cuDNN autotune)
    model_sec = [0.0]
    run = sep._run

    def timed_run(batch):
        t = time.perf_counter()
        out = run(batch)  # returns a host array, so the device work is finished here (runs on the model thread)
        model_sec[0] += time.perf_counter() - t
        return out

    sep._run = timed_run
    if args.barrier:  # start together with the other processes
        open(os.path.join(args.barrier, str(os.getpid())), "w").close()
        while len(os.listdir(args.barrier)) < args.processes[0]:
            time.sleep(0.01)
    t_start = time.time()
    out_dir = tempfile.mkdtemp()
    if args.write_stems:
        files = [separation.StemFiles(f"{out_dir}/{i}", sep.sources, sep.samplerate_hz) for i in range(len(mixes))]
        sinks = files
    else:
        files, sinks = [], [lambda b: None for _ in mixes]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0, cpu0 = time.perf_counter(), time.process_time()
    sep.separate_many(mixes, sinks)
    for f in files:
        f.close()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu_sec = time.perf_counter() - t0, time.process_time() - cpu0
    audio_sec = args.songs * args.song_sec
    print(json.dumps({
        "batch_size": args.batch_size, "device": device, "audio_sec": audio_sec, "wall_sec": wall,
        "x_realtime": audio_sec / wall, "t_start": t_start, "t_end": time.time(), "model_share": model_sec[0] / wall, "host_cores": cpu_sec / wall, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6, "threads": torch.get_num_threads(),
        "gpu_name": torch.cuda.get_device_name() if device.startswith("cuda") else None,
    }))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", type=int, default=2)
    p.add_argument("--song-sec", type=float, default=16.0)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--device", default="auto")
    p.add_argument("--no-mixed-precision", dest="mixed_precision", action="store_false")
    p.add_argument("--write-stems", action="store_true", help="sink into StemFiles (FLAC) as the actor does")
    p.add_argument("--model", default=None, help="model name in --repo (default: a random full-size htdemucs)")
    p.add_argument("--repo", default=None)
    p.add_argument("--processes", type=int, nargs="+", default=[1], help="separating processes sharing the device")
    p.add_argument("--barrier", help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    if args.model is None:
        from mirray.corpus.tiny_demucs import write_full_htdemucs

        args.repo, args.model = str(write_full_htdemucs(tempfile.mkdtemp())), "htdemucs_random"
    rows = []
    for n in args.processes:
        for bs in args.batch_sizes:
            cmd = [sys.executable, __file__, "--child", "--batch-size", str(bs), "--songs", str(args.songs),
                   "--song-sec", str(args.song_sec), "--device", args.device, "--model", args.model, "--repo", args.repo,
                   "--processes", str(n), "--barrier", tempfile.mkdtemp()]
            if not args.mixed_precision:
                cmd.append("--no-mixed-precision")
            if args.write_stems:
                cmd.append("--write-stems")
            rows.append(run_together(cmd, n, args.songs * args.song_sec))
            print(f"{n} process(es), batch {bs}: {rows[-1]['x_realtime']:.3f}x realtime", file=sys.stderr, flush=True)
    r0 = rows[0]
    gpu_name = f" ({r0['gpu_name']})" if r0.get("gpu_name") else ""
    print(f"\nDemucs separation, {r0['params_m']:.1f} M params ({args.model}), {args.songs} songs x {args.song_sec:.0f} s, "
          f"device {r0['device']}{gpu_name}, {r0['threads']} torch threads, {platform.processor() or platform.machine()}, "
          f"{'fp16 autocast' if args.mixed_precision and r0['device'].startswith('cuda') else 'fp32'}, "
          f"{'stems written as FLAC' if args.write_stems else 'stems discarded'}")
    print("| processes | segments per batch | audio s / wall s | wall s per audio min | model busy | host cores | peak RSS MiB | peak GPU MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        gpu = f"{r['peak_gpu_mib']:.0f}" if r["peak_gpu_mib"] is not None else "-"
        print(f"| {r['processes']} | {r['batch_size']} | {r['x_realtime']:.3f} | {60 / r['x_realtime']:.2f} | {r['model_share']:.2f} "
              f"| {r['host_cores']:.1f} | {r['peak_rss_mib']:.0f} | {gpu} |")


def run_together(cmd: list[str], n: int, audio_sec: float) -> dict:
    """``n`` children at once; throughput = all their audio over first start to last finish. RSS and GPU
    memory are per process (the largest), model busy their mean."""
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"a separating process failed:\n{stderr}")
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    row = dict(outs[0], processes=n)
    row["x_realtime"] = n * audio_sec / (max(o["t_end"] for o in outs) - min(o["t_start"] for o in outs))
    row["model_share"] = float(np.mean([o["model_share"] for o in outs]))
    row["host_cores"] = float(sum(o["host_cores"] for o in outs))
    row["peak_rss_mib"] = max(o["peak_rss_mib"] for o in outs)
    row["peak_gpu_mib"] = max(o["peak_gpu_mib"] for o in outs) if outs[0]["peak_gpu_mib"] is not None else None
    return row


if __name__ == "__main__":
    main()
