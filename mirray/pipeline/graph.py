"""The Ray Data graph, top to bottom:

    list INPUT → drop (uri, size) already done → [hash pass] read bytes → song_id
    → plan on the driver: one row per new song id, duplicates folded into it
    → [song pass] read bytes → metadata → decode → resample → MIR   (CPU tasks)
    → features/ (Ray-written shards), errors/ metrics/ aliases/ run.json (driver-written)
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
import ray

from mirray.pipeline import schema, sinks, storage
from mirray.pipeline.plan import plan_songs
from mirray.pipeline.song import process_song
from mirray.udfs.ids import song_id_for_bytes


def _hash_batch(batch: pa.Table, spec: storage.StorageSpec) -> pa.Table:
    rows = []
    for item in batch.to_pylist():
        try:
            data = storage.read_bytes(item["uri"], spec)
            rows.append({**item, "song_id": song_id_for_bytes(data), "read_error": None})
        except Exception as exc:  # unreadable: becomes an error row, the run goes on
            rows.append({**item, "song_id": None, "read_error": f"{type(exc).__name__}: {exc}"})
    return pa.Table.from_pylist(rows, schema=_HASHED)


_HASHED = pa.schema([("uri", pa.string()), ("file_size_bytes", pa.int64()), ("song_id", pa.string()), ("read_error", pa.string())])


def _song_batch(batch: pa.Table, cfg: dict, run_id: str, spec: storage.StorageSpec) -> pa.Table:
    node_id = ray.get_runtime_context().get_node_id()
    rows = []
    for item in batch.to_pylist():
        try:
            data = storage.read_bytes(item["uri"], spec)
        except Exception as exc:
            data, item = None, {**item, "read_error": exc}
        row = process_song(item, data, cfg, run_id)
        for m in row["metrics"]:
            m["node_id"] = node_id
        rows.append(row)
    return schema.table(rows, schema.RESULT)


def _features(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.is_null(batch["error"])).select(schema.FEATURES.names)


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


def run(input_uri: str, out_uri: str, cfg: dict, run_id: str | None = None) -> RunSummary:
    """Process every new song under ``input_uri`` into ``out_uri``. Ray must be initialised."""
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
            .map_batches(_hash_batch, fn_kwargs={"spec": spec}, batch_format="pyarrow",
                         batch_size=res["hash"]["batch_size"], num_cpus=res["hash"]["num_cpus"])
            .take_all()
        )
        plan = plan_songs(hashed, done.song_ids, run_id)
    if plan.songs:
        results = (
            ray.data.from_items(plan.songs, override_num_blocks=len(plan.songs))
            .map_batches(_song_batch, fn_kwargs={"cfg": cfg, "run_id": run_id, "spec": spec}, batch_format="pyarrow",
                         batch_size=res["cpu_stage"]["batch_size"], num_cpus=res["cpu_stage"]["num_cpus"])
            .materialize()  # small rows (no audio): split three ways below without recomputing
        )
        fs, path = storage.resolve(storage.join(out_uri, "features"), spec)
        feats = results.map_batches(_features, batch_format="pyarrow")
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
