"""One song through the CPU stages, with per-stage timings and error capture. Ray-free, so testable alone."""

from __future__ import annotations

import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from mirray.pipeline.schema import SCHEMA_VERSION
from mirray.udfs import audio, metadata, mir


class StageError(Exception):
    def __init__(self, stage: str, exc: BaseException, skipped: bool = False):
        super().__init__(str(exc))
        self.stage, self.exc, self.skipped = stage, exc, skipped


class _Timer:
    def __init__(self):
        self.metrics: list[dict] = []

    @contextmanager
    def stage(self, name: str):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            yield
        except StageError:
            raise
        except audio.InputTooLongError as exc:
            raise StageError(name, exc, skipped=True) from exc
        except Exception as exc:
            raise StageError(name, exc) from exc
        finally:
            self.metrics.append({"stage": name, "wall_sec": time.perf_counter() - wall0, "cpu_sec": time.process_time() - cpu0})


def _error(stage: str, exc: BaseException, skipped: bool = False) -> dict:
    message = str(exc) or repr(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    if frames and not isinstance(exc, (audio.AudioError, OSError)):  # unexpected: say where it broke
        message += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return {"stage": stage, "error_type": type(exc).__name__, "message": message[:2000], "skipped": skipped}


def process_song(item: dict, data: bytes | None, cfg: dict, run_id: str) -> dict:
    """Run metadata → decode → resample → MIR on one song's bytes.

    ``item`` carries song_id, uri, duplicate_uris, file_size_bytes. Returns a dict with every
    schema.RESULT key: feature fields on success, or ``error`` set (stage, error_type, message).
    """
    row = {
        **item,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "processed_at": datetime.now(timezone.utc),
        "error": None,
    }
    timer = _Timer()
    audio_cfg, mir_cfg = cfg["audio"], cfg["mir"]
    try:
        if data is None:
            raise StageError("read", item.get("read_error") or OSError("no bytes"))
        if not data:
            raise StageError("read", audio.AudioError("empty file (0 bytes)"))
        with timer.stage("metadata"):
            row.update(metadata.extract_metadata(data))
            header_sec = row.get("duration_sec")
            if header_sec and header_sec > audio_cfg["max_duration_sec"]:
                raise audio.InputTooLongError(
                    f"{header_sec:.0f} s is longer than audio.max_duration_sec={audio_cfg['max_duration_sec']}"
                )
        with timer.stage("decode"):
            samples, sr_hz = audio.decode(data)
            decoded_sec = samples.shape[0] / sr_hz
            row.update(decoded_duration_sec=decoded_sec, decoded_sample_rate_hz=sr_hz, decoded_channels=samples.shape[1])
            if decoded_sec > audio_cfg["max_duration_sec"]:
                raise audio.InputTooLongError(f"{decoded_sec:.0f} s decoded is longer than audio.max_duration_sec")
            if row.get("container_format") == "mp3":
                audio.check_length(decoded_sec, header_sec, audio_cfg["truncation_tolerance_sec"])
        with timer.stage("resample"):
            mono = audio.resample(audio.to_mono(samples), sr_hz, audio_cfg["mir_sample_rate_hz"])
            del samples
        mir_sr = audio_cfg["mir_sample_rate_hz"]
        with timer.stage("mir_beats"):
            row.update(mir.tempo_and_beats(mono, mir_sr, mir_cfg["hop_length"], mir_cfg["tempo_min_bpm"], mir_cfg["tempo_max_bpm"]))
        with timer.stage("mir_key"):
            row.update(mir.estimate_key(mono, mir_sr, mir_cfg["hop_length"], mir_cfg["key_profile"]))
    except StageError as err:
        row["error"] = _error(err.stage, err.exc, err.skipped)
    duration = row.get("decoded_duration_sec") or row.get("duration_sec")
    row["metrics"] = [{**m, "audio_duration_sec": duration, "node_id": None} for m in timer.metrics]
    return row
