"""The Ray Data stage functions and the Demucs actor: thin wrappers that move rows in and out of
Arrow tables around the Ray-free code in udfs/ and song.py."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray

from mirray.pipeline import schema, song, storage
from mirray.udfs import audio, separation
from mirray.udfs.ids import song_id_for_bytes

HASHED = pa.schema([("uri", pa.string()), ("file_size_bytes", pa.int64()), ("song_id", pa.string()), ("read_error", pa.string())])


def hash_files(batch: pa.Table, spec: storage.StorageSpec) -> pa.Table:
    """Pass 1: read each file and compute its song id (the bytes are dropped again)."""
    rows = []
    for item in batch.to_pylist():
        try:
            rows.append({**item, "song_id": song_id_for_bytes(storage.read_bytes(item["uri"], spec)), "read_error": None})
        except Exception as exc:  # unreadable: becomes an error row, the run goes on
            rows.append({**item, "song_id": None, "read_error": f"{type(exc).__name__}: {exc}"})
    return pa.Table.from_pylist(rows, schema=HASHED)


def _node_id() -> str:
    return ray.get_runtime_context().get_node_id()


def _samples(row: dict) -> np.ndarray:
    return np.frombuffer(row["audio_pcm"], dtype=np.float32).reshape(-1, row["decoded_channels"])


def decode(batch: pa.Table, cfg: dict, run_id: str, spec: storage.StorageSpec, stems_status: str) -> pa.Table:
    """read → metadata → decode. The decoded audio travels on in ``audio_pcm``."""
    rows = []
    for item in batch.to_pylist():
        row = song.new_row(item, run_id)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            data = storage.read_bytes(item["uri"], spec)
        except Exception as exc:
            data, row["read_error"] = None, exc
        row["metrics"].append({"stage": "read", "wall_sec": time.perf_counter() - wall0, "cpu_sec": time.process_time() - cpu0})
        decoded = song.decode_stage(row, data, cfg)
        row["stems_status"] = stems_status
        if decoded is not None:
            row["audio_pcm"] = np.ascontiguousarray(decoded[0]).tobytes()
        rows.append(row)
    return schema.table(rows, schema.WORK)


def _harmonic_stems(row: dict, cfg: dict, spec: storage.StorageSpec) -> np.ndarray | None:
    """bass + other from the song's stem files, at the mix's rate, when ``mir.chord_source`` is "stems"
    and the song has them; None otherwise (chords then come from the mix, and the row says so)."""
    if cfg["mir"]["chord_source"] != "stems" or not (row.get("stem_bass_uri") and row.get("stem_other_uri")):
        return None
    try:
        parts = [audio.decode(storage.read_bytes(row[f"stem_{name}_uri"], spec)) for name in ("bass", "other")]
    except Exception as exc:  # a stem that cannot be read back: fall back to the mix, never lose the song
        print(f"mirray: warning: stems of {row['song_id']} unreadable ({type(exc).__name__}); chords from the mix", flush=True)
        return None
    (bass, sr_hz), (other, _) = parts
    n = min(len(bass), len(other))
    return audio.resample(bass[:n] + other[:n], sr_hz, row["decoded_sample_rate_hz"])


def _vocal_envelope(row: dict, cfg: dict) -> np.ndarray | None:
    """The vocals stem's RMS envelope the Demucs actor recorded, when instrumental sections are wanted."""
    envelope = row.get("vocal_rms_envelope")
    return np.asarray(envelope, dtype=np.float64) if cfg["mir"]["instrumental_from_stems"] and envelope else None


def analyse(batch: pa.Table, cfg: dict, spec: storage.StorageSpec | None = None) -> pa.Table:
    """resample → MIR; drops the audio. Output rows are final (schema.RESULT)."""
    node_id, rows = _node_id(), []
    for row in batch.to_pylist():
        if row["error"] is None:
            song.mir_stage(row, _samples(row), row["decoded_sample_rate_hz"], cfg, _harmonic_stems(row, cfg, spec),
                           _vocal_envelope(row, cfg))
        song.finish(row)
        for m in row["metrics"]:
            m["node_id"] = m.get("node_id") or node_id
        rows.append(row)
    return schema.table(rows, schema.RESULT)


def features_only(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.is_null(batch["error"])).select(schema.FEATURES.names)


class SeparateStems:
    """Demucs actor: loads the model once, separates each batch of songs with their segments batched
    together, writes stems to OUT/stems/<song_id>/ and adds the stem columns."""

    def __init__(self, cfg: dict, out_uri: str, spec: storage.StorageSpec):
        sep = cfg["separation"]
        self.cfg, self.out_uri, self.spec = sep, out_uri, spec
        self.device = separation.pick_device(sep["device"])
        gpu_ids = ray.get_gpu_ids()
        self.device_label = self.device
        if gpu_ids and not self.device.startswith("cuda"):
            # a classic misconfiguration (CPU torch on a GPU node): say so in every row and the log
            self.device_label = f"cpu (Ray assigned GPU {','.join(map(str, gpu_ids))} but torch has no CUDA)"
            print(f"mirray: warning: Demucs actor runs on {self.device_label}", flush=True)
        model = separation.load_model(sep["model"], sep["model_repo"])
        self.separator = separation.Separator(model, self.device, sep["segment_sec"], sep["overlap"], sep["shifts"],
                                              sep["mixed_precision"], sep["segments_per_batch"])
        self.tmp = tempfile.mkdtemp(prefix="mirray-stems-")

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = batch.to_pylist()
        todo = [r for r in rows if r["error"] is None]
        if todo:
            self._separate(todo)
        return schema.table(rows, schema.WORK)

    def _separate(self, rows: list[dict]) -> None:
        try:
            stats, metric = self._run(rows)
        except Exception as exc:
            if len(rows) > 1:  # one bad song must not sink the batch: retry one by one
                for row in rows:
                    self._separate([row])
                return
            rows[0]["error"] = song.error_record("separate", exc)
            return
        for row, song_stats in zip(rows, stats):
            row["metrics"].append(dict(metric))
            try:
                self._publish(row, song_stats)
            except Exception as exc:
                row["error"] = song.error_record("write_stems", exc)
            shutil.rmtree(os.path.join(self.tmp, row["song_id"]), ignore_errors=True)

    def _run(self, rows: list[dict]) -> tuple[list[dict], dict]:
        sr = self.separator.samplerate_hz
        wall0, cpu0 = time.perf_counter(), time.process_time()
        mixes = [audio.resample(_samples(r), r["decoded_sample_rate_hz"], sr) for r in rows]
        sinks = [separation.StemFiles(os.path.join(self.tmp, r["song_id"]), self.separator.sources, sr,
                                      self.cfg["stem_format"], self.cfg["stem_subtype"], self.cfg["active_threshold_dbfs"])
                 for r in rows]
        try:
            self.separator.separate_many(mixes, sinks)
        finally:
            stats = separation.close_all(sinks)
        # the batch's cost, shared evenly: the songs ran together
        metric = {"stage": "separate", "wall_sec": (time.perf_counter() - wall0) / len(rows),
                  "cpu_sec": (time.process_time() - cpu0) / len(rows), "node_id": _node_id()}
        return stats, metric

    def _publish(self, row: dict, stats: dict) -> None:
        """Move stem files to their final URIs (paths come only from the song id) and fill the row."""
        for name, st in stats.items():
            uri = storage.join(self.out_uri, "stems", row["song_id"], os.path.basename(st["path"]))
            storage.put_file(st["path"], uri, self.spec)
            row[f"stem_{name}_uri"] = uri
            row[f"stem_{name}_rms_dbfs"] = st["rms_dbfs"]
            row[f"stem_{name}_active_ratio"] = st["active_ratio"]
        row.update(separation.vocal_flags(stats, self.cfg["vocals_min_active_ratio"]))
        if "vocals" in stats:
            row["vocal_rms_envelope"] = stats["vocals"]["frame_rms"]
        row.update(stems_status="ok", stem_model=self.cfg["model"], stem_device=self.device_label)
