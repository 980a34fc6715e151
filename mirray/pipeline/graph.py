"""The Ray Data graph, top to bottom:

    list INPUT → drop (uri, size) already done → [hash pass] read bytes → song_id
    → plan on the driver: one row per new song id, duplicates folded into it
    → [decode]   read bytes → metadata → decode                     (CPU tasks)
    → [separate] Demucs actors, model loaded once; stems to OUT/stems/  (GPU or CPU; skipped with --no-stems)
    → [analyse]  resample → MIR                                      (CPU tasks)
    → features/ (Ray-written shards), errors/ metrics/ aliases/ run.json (driver-written)
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import ray

from mirray.pipeline import schema, sinks, stages, storage
from mirray.pipeline.plan import plan_songs
from mirray.udfs import separation


@dataclass
class RunSummary:
    run_id: str
    out_uri: str
    listed: int
    processed: int
    skipped_done: int
    duplicates: int
    failed: int
    skipped_with_reason: int
    audio_sec: float
    wall_sec: float

    def line(self) -> str:
        per_hour = self.processed / (self.wall_sec / 3600) if self.wall_sec > 0 else 0.0
        return (
            f"mirray: {self.processed} processed, {self.skipped_done} skipped (already done), "
            f"{self.failed} failed, {self.skipped_with_reason} skipped with reason, {self.duplicates} duplicate paths | "
            f"{self.audio_sec / 3600:.3f} audio hours in {self.wall_sec:.1f} s ({per_hour:.0f} songs/hour) | "
            f"output: {self.out_uri} (features/ errors/ metrics/ run.json)"
        )


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


# CPUs per GPU at which two Demucs actors share a card under num_gpus: auto. On a 16-core H200 node the
# whole pipeline ran 1.37-1.46x faster with two actors than one (BENCHMARKS.md): each actor keeps ~4 cores
# busy and the CPU stages need ~3.5 more for what it separates, so three would leave the CPU stages short.
TWO_ACTORS_MIN_CPUS_PER_GPU = 16


def separation_gpus(requested, gpu_nodes: list[tuple[float, float]]) -> float:
    """GPUs each Demucs actor takes; ``gpu_nodes``: (CPUs, GPUs) of each live GPU node.
    ``auto``: 0 (CPU) without GPU nodes; 0.5 when the smallest GPU node has ``TWO_ACTORS_MIN_CPUS_PER_GPU``
    CPUs per GPU or more; else 1."""
    if requested != "auto":
        return float(requested)
    if not gpu_nodes:
        return 0.0
    return 0.5 if min(cpus / gpus for cpus, gpus in gpu_nodes) >= TWO_ACTORS_MIN_CPUS_PER_GPU else 1.0


def separation_max_actors(requested, gpus_per_actor: float, gpu_nodes: list[tuple[float, float]]) -> int:
    """Largest Demucs actor pool. ``auto``: as many actors as the live GPUs hold at ``gpus_per_actor``
    (a fixed 4 would leave GPUs 5+ idle); 4 on CPU or while no GPU node is up."""
    if requested != "auto":
        return int(requested)
    if gpus_per_actor <= 0 or not gpu_nodes:
        return 4
    return max(1, int(sum(gpus for _, gpus in gpu_nodes) / gpus_per_actor + 1e-6))


def separation_cpus(requested, gpus_per_actor: float, gpu_nodes: list[tuple[float, float]]) -> float:
    """CPUs each Demucs actor reserves; ``gpu_nodes``: (CPUs, GPUs) of each live GPU node.

    ``auto``: 1 on CPU. On a GPU, the host cores one actor keeps busy (model thread, overlap-add, four stem
    encoders: 3.8 measured on an H200, BENCHMARKS.md), up to 4, so that CPU stages placed beside it do not
    starve the GPU; but one core less than the actor's share of the smallest GPU node, left to the CPU stages
    (a 2-CPU, 1-GPU node still runs both)."""
    if requested != "auto":
        return float(requested)
    if gpus_per_actor <= 0 or not gpu_nodes:
        return 1.0
    cpus_per_gpu = min(cpus / gpus for cpus, gpus in gpu_nodes)
    return float(max(1, min(4, int(cpus_per_gpu * gpus_per_actor) - 1)))


def _gpu_nodes() -> list[tuple[float, float]]:
    return [(n["Resources"].get("CPU", 0.0), n["Resources"]["GPU"]) for n in ray.nodes()
            if n.get("Alive") and n["Resources"].get("GPU", 0) > 0]


def check_stems(cfg: dict) -> None:
    """Fail fast, before any song, when stems are on and the model cannot be loaded."""
    if cfg["separation"]["enabled"]:
        separation.load_model(cfg["separation"]["model"], cfg["separation"]["model_repo"])


def run(input_uri: str, out_uri: str, cfg: dict, run_id: str | None = None, stems_skip_reason: str | None = None) -> RunSummary:
    """Process every new song under ``input_uri`` into ``out_uri``. Ray must be initialised.

    With separation off, ``stems_skip_reason`` (e.g. "weights unavailable: …") is recorded per song.
    """
    run_id = run_id or new_run_id()
    started_at, t0 = datetime.now(timezone.utc), time.perf_counter()
    spec = storage.StorageSpec.from_config(cfg)
    res = cfg["resources"]

    listing = storage.list_files(input_uri, cfg["input"]["extensions"], spec)
    done = sinks.DoneIndex.load(out_uri, spec, include_errors=not cfg["input"]["retry_errors"])
    todo = [{"uri": u, "file_size_bytes": s} for u, s in listing if (u, s) not in done.keys]
    print(f"mirray: {len(listing)} files under {input_uri}, {len(listing) - len(todo)} already done, {len(todo)} to look at", flush=True)

    results = None
    plan = plan_songs([], done.song_ids, run_id)
    if todo:
        hashed = (
            ray.data.from_items(todo, override_num_blocks=max(1, min(len(todo), 200)))
            .map_batches(stages.hash_files, fn_kwargs={"spec": spec}, batch_format="pyarrow",
                         batch_size=res["hash"]["batch_size"], num_cpus=res["hash"]["num_cpus"])
            .take_all()
        )
        plan = plan_songs(hashed, done.song_ids, run_id)
    if plan.songs:
        stems_on = cfg["separation"]["enabled"]
        stems_status = None if stems_on else ("skipped: " + stems_skip_reason if stems_skip_reason else "disabled")
        cpu = res["cpu_stage"]
        ds = ray.data.from_items(plan.songs, override_num_blocks=len(plan.songs)).map_batches(
            stages.decode, fn_kwargs={"cfg": cfg, "run_id": run_id, "spec": spec, "stems_status": stems_status},
            batch_format="pyarrow", batch_size=cpu["batch_size"], num_cpus=cpu["num_cpus"])
        if stems_on:
            sep = res["separation"]
            gpu_nodes = _gpu_nodes()
            gpus = separation_gpus(sep["num_gpus"], gpu_nodes)
            cpus = separation_cpus(sep["num_cpus"], gpus, gpu_nodes)
            most = separation_max_actors(sep["max_actors"], gpus, gpu_nodes)
            least = min(sep["min_actors"], most)
            print(f"mirray: {least}-{most} Demucs actors, each taking {gpus:g} GPU and {cpus:g} CPU", flush=True)
            ds = ds.map_batches(
                stages.SeparateStems, fn_constructor_kwargs={"cfg": cfg, "out_uri": out_uri, "spec": spec},
                compute=ray.data.ActorPoolStrategy(min_size=least, max_size=most),
                num_gpus=gpus, num_cpus=cpus,
                batch_format="pyarrow", batch_size=sep["batch_size"])
        results = ds.map_batches(stages.analyse, fn_kwargs={"cfg": cfg, "spec": spec}, batch_format="pyarrow",
                                 batch_size=cpu["batch_size"], num_cpus=cpu["num_cpus"]).materialize()
        # final rows are small (no audio): split three ways below without recomputing
        fs, path = storage.resolve(storage.join(out_uri, "features"), spec)
        feats = results.map_batches(stages.features_only, batch_format="pyarrow")
        if feats.count():
            feats.write_parquet(path, filesystem=fs, filename_provider=sinks.PartFilenames(run_id),
                                min_rows_per_file=cfg["output"]["rows_per_file"])

    error_rows = list(plan.errors)
    metric_rows, processed, audio_sec = [], 0, 0.0
    if results is not None:
        columns = ["song_id", "uri", "duplicate_uris", "file_size_bytes", "error", "metrics", "decoded_duration_sec"]
        for row in results.select_columns(columns).take_all():
            metric_rows += [{**m, "run_id": run_id, "song_id": row["song_id"]} for m in row["metrics"]]
            if row["error"] is None:
                processed += 1
                audio_sec += row["decoded_duration_sec"] or 0.0
            else:
                for uri in [row["uri"], *row["duplicate_uris"]]:  # every path of it, so a re-run skips them all
                    error_rows.append({**row["error"], "song_id": row["song_id"], "uri": uri, "file_size_bytes": row["file_size_bytes"]})
    for r in error_rows:
        r.update(run_id=run_id, schema_version=schema.SCHEMA_VERSION)
    sinks.write_table(out_uri, "errors", run_id, schema.table(error_rows, schema.ERRORS), spec)
    sinks.write_table(out_uri, "metrics", run_id, schema.table(metric_rows, schema.METRICS), spec)
    sinks.write_table(out_uri, "aliases", run_id, schema.table(plan.aliases, schema.ALIASES), spec)

    summary = RunSummary(
        run_id=run_id, out_uri=out_uri, listed=len(listing), processed=processed,
        skipped_done=len(listing) - len(todo) + len(plan.aliases), duplicates=plan.duplicate_count,
        failed=sum(not r["skipped"] for r in error_rows), skipped_with_reason=sum(bool(r["skipped"]) for r in error_rows),
        audio_sec=audio_sec, wall_sec=time.perf_counter() - t0,
    )
    record = {
        "run_id": run_id, "input": input_uri, "output": out_uri,
        "started_at": started_at.isoformat(), "ended_at": datetime.now(timezone.utc).isoformat(),
        "counts": {k: v for k, v in summary.__dict__.items() if k not in ("run_id", "out_uri")},
        "config": cfg, "versions": package_versions(), "ray_address": os.environ.get("RAY_ADDRESS"),
        "schema_version": schema.SCHEMA_VERSION,
    }
    sinks.write_json(storage.join(out_uri, "runs", f"{run_id}.json"), record, spec)
    sinks.write_json(storage.join(out_uri, "run.json"), record, spec)
    return summary


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("mirray", "ray", "numpy", "pyarrow", "librosa", "soundfile", "soxr", "mutagen", "torch", "demucs"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
