"""Demucs source separation: model loaded once, segments of several songs batched together, stems
streamed out so memory does not grow with song length. No Ray here.

Shapes: a mix is float32 (frames, channels) at the model's rate (44.1 kHz); stems come out as
(frames, 2) blocks per source, in order, to a sink.
"""

from __future__ import annotations

import contextlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mirray.udfs.audio import to_mono

STEMS = ("vocals", "drums", "bass", "other")


class WeightsUnavailableError(RuntimeError):
    """The configured model could not be loaded (no internet, no local repo, wrong name)."""


def load_model(name: str, model_repo: str | None = None):
    """A Demucs model or bag by name, from ``model_repo`` (a local folder in Demucs's format) or the
    internet (cached by torch hub / HF). Raises WeightsUnavailableError with the remedies."""
    from demucs.pretrained import get_model

    if model_repo is not None and not Path(model_repo).is_dir():
        raise WeightsUnavailableError(f"separation.model_repo={model_repo} is not a folder")
    try:
        model = get_model(name, repo=Path(model_repo) if model_repo else None)
    except (Exception, SystemExit) as exc:  # URLError, ModelLoadingError, demucs's own sys.exit
        where = f"local repo {model_repo}" if model_repo else "the internet (or its cache)"
        raise WeightsUnavailableError(
            f"cannot load Demucs model '{name}' from {where}: {type(exc).__name__}: {exc}. "
            "Remedies: allow downloads once so the weights are cached; or set separation.model_repo to a "
            "folder holding '<name>.th' / '<name>.yaml' in Demucs's format; or run with --no-stems."
        ) from exc
    model.eval()
    return model


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


ENVELOPE_FRAME_SEC = 0.1  # stem level statistics and RMS envelopes run on frames this long


def rms_envelope(stem: np.ndarray, samplerate_hz: int, frame_sec: float = ENVELOPE_FRAME_SEC) -> np.ndarray:
    """RMS per ``frame_sec`` of a (frames, channels) stem, as the Demucs actor records it while writing."""
    stats = StemStats(int(frame_sec * samplerate_hz), -200.0)
    stats.add(np.asarray(stem, dtype=np.float32).reshape(len(stem), -1))
    return np.array(stats.result()["frame_rms"])


@dataclass
class StemStats:
    """Running RMS, activity and RMS envelope (one value per ``frame_len`` samples) of one stem, fed block
    by block; frames run on across block edges."""

    frame_len: int
    threshold_dbfs: float
    sum_sq: float = 0.0
    n: int = 0
    active_n: int = 0
    frame_rms: list = field(default_factory=list)
    _carry: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add(self, block: np.ndarray) -> None:
        mono_sq = to_mono(np.square(block, dtype=np.float64))
        self.sum_sq += float(mono_sq.sum())
        self.n += len(mono_sq)
        sq = np.concatenate([self._carry, mono_sq])
        whole = len(sq) // self.frame_len * self.frame_len
        for frame in sq[:whole].reshape(-1, self.frame_len):
            self._frame(frame)
        self._carry = sq[whole:]

    def _frame(self, frame: np.ndarray) -> None:
        mean_sq = float(frame.mean())
        self.frame_rms.append(float(np.sqrt(mean_sq)))
        if 10 * np.log10(mean_sq + 1e-20) > self.threshold_dbfs:
            self.active_n += len(frame)

    def result(self) -> dict:
        if len(self._carry):  # the last, shorter frame
            self._frame(self._carry)
            self._carry = np.zeros(0)
        rms = np.sqrt(self.sum_sq / self.n) if self.n else 0.0
        return {"rms_dbfs": float(20 * np.log10(rms + 1e-10)), "active_ratio": self.active_n / self.n if self.n else 0.0,
                "frame_rms": list(self.frame_rms)}


class _SongStream:
    """Overlap-add of one song's segments, flushing every sample no later segment will touch."""

    def __init__(self, mix: np.ndarray, seg_len: int, stride: int, weight: np.ndarray, sink: Callable[[np.ndarray], None]):
        self.mix, self.seg_len, self.stride, self.weight, self.sink = mix, seg_len, stride, weight, sink
        self.frames = mix.shape[0]
        self.n_segments = max(1, -(-self.frames // stride))  # offsets range(0, frames, stride), as Demucs
        self.acc_start = 0  # absolute sample index of acc[..., 0]
        self.acc = None
        self.wsum = np.zeros(seg_len + stride, dtype=np.float32)
        self.done = 0

    def _span(self, k: int) -> tuple[int, int]:
        """(start, length) of segment k's own samples; the last one may be short."""
        start = k * self.stride
        return start, min(self.seg_len, self.frames - start)

    def segment(self, k: int) -> np.ndarray:
        """(2, seg_len) model input. A short last segment is centred in real context, zero past the
        edges, exactly as demucs.apply.TensorChunk.padded does, so results match apply_model."""
        start, length = self._span(k)
        lo = start - (self.seg_len - length) // 2
        seg = np.zeros((self.seg_len, self.mix.shape[1]), dtype=np.float32)
        a, b = max(0, lo), min(self.frames, lo + self.seg_len)
        seg[a - lo:b - lo] = self.mix[a:b]
        seg = seg.T
        return np.repeat(seg, 2, axis=0) if seg.shape[0] == 1 else seg[:2]

    def add(self, k: int, out: np.ndarray) -> None:
        """``out``: (sources, 2, seg_len) for segment k; segments must arrive in order."""
        if self.acc is None:
            self.acc = np.zeros((out.shape[0], out.shape[1], self.seg_len + self.stride), dtype=np.float32)
        start, length = self._span(k)
        trim = (self.seg_len - length) // 2
        offset = start - self.acc_start
        self.acc[:, :, offset:offset + length] += out[:, :, trim:trim + length] * self.weight[:length]
        self.wsum[offset:offset + length] += self.weight[:length]
        final = self.frames if k == self.n_segments - 1 else (k + 1) * self.stride
        n_out = final - self.acc_start
        block = self.acc[:, :, :n_out] / np.maximum(self.wsum[:n_out], 1e-8)
        self.sink(np.ascontiguousarray(block.transpose(0, 2, 1)))  # (sources, n, 2)
        keep = self.acc.shape[2] - n_out
        self.acc[:, :, :keep] = self.acc[:, :, n_out:]
        self.acc[:, :, keep:] = 0
        self.wsum[:keep] = self.wsum[n_out:]
        self.wsum[keep:] = 0
        self.acc_start = final
        self.done += 1


class Separator:
    """Holds one Demucs model; separates batches of songs with their segments run together."""

    def __init__(self, model, device: str = "cpu", segment_sec: float | None = None, overlap: float = 0.25,
                 shifts: int = 0, mixed_precision: bool = True, segments_per_batch: int | str = "auto",
                 model_thread: bool | None = None):
        import torch

        self.torch = torch
        self.model = model.to(device)
        self.device = device
        self.sources = list(model.sources)
        self.samplerate_hz = int(model.samplerate)
        max_segment = float(getattr(model, "segment", 7.8))
        # apply_model's shift trick lengthens the input by up to 0.5 s: keep within the model's segment
        segment_sec = min(segment_sec or max_segment, max_segment - (0.5 if shifts else 0.0))
        self.seg_len = int(segment_sec * self.samplerate_hz)
        self.stride = max(1, int(self.seg_len * (1 - overlap)))
        ramp = np.minimum(np.arange(1, self.seg_len + 1), np.arange(self.seg_len, 0, -1)).astype(np.float32)
        self.weight = ramp / ramp.max()  # Demucs's triangular overlap-add window
        self.shifts = shifts
        self.autocast = mixed_precision and device.startswith("cuda")
        if segments_per_batch == "auto":
            # measured (BENCHMARKS.md): on CPU, bigger batches only cost memory and speed; GPUs want them
            segments_per_batch = 8 if device.startswith("cuda") else 1
        self.segments_per_batch = int(segments_per_batch)
        # None: on GPUs only; on CPU the model takes every core, so there is nothing to hide behind it
        self.model_thread = device.startswith("cuda") if model_thread is None else model_thread

    def _run(self, batch: np.ndarray) -> np.ndarray:
        from demucs.apply import apply_model

        torch = self.torch
        x = torch.from_numpy(batch).to(self.device)
        ctx = torch.autocast("cuda", dtype=torch.float16) if self.autocast else contextlib.nullcontext()
        with torch.inference_mode(), ctx:
            out = apply_model(self.model, x, shifts=self.shifts, split=False, device=self.device)
        return out.float().cpu().numpy()

    def separate_many(self, mixes: list[np.ndarray], sinks: list[Callable[[np.ndarray], None]]) -> None:
        """Separate each mix (frames, channels) at ``samplerate_hz``; sink i receives (sources, n, 2)
        blocks of song i in order. Segments of all songs share batches of ``segments_per_batch``."""
        streams = [_SongStream(m, self.seg_len, self.stride, self.weight, s) for m, s in zip(mixes, sinks)]
        queue = [(s, k) for s in streams for k in range(s.n_segments)]
        chunks = [queue[i:i + self.segments_per_batch] for i in range(0, len(queue), self.segments_per_batch)]

        def inputs(chunk):
            return np.stack([s.segment(k) for s, k in chunk])

        def add(chunk, out):
            for (s, k), o in zip(chunk, out):
                s.add(k, o)

        if not self.model_thread:
            for chunk in chunks:
                add(chunk, self._run(inputs(chunk)))
            return
        # on a GPU the model runs one batch ahead on its own thread (torch frees the GIL), hiding the cutting
        # and overlap-adding that took 36% of an H200's wall time
        with ThreadPoolExecutor(1, thread_name_prefix="demucs") as model_thread:
            ahead = None
            for chunk in chunks + [None]:
                nxt = chunk and (chunk, model_thread.submit(self._run, inputs(chunk)))
                if ahead is not None:
                    add(ahead[0], ahead[1].result())
                ahead = nxt


class StemFiles:
    """Sink for one song: streams each stem to ``folder/<stem>.<ext>`` and keeps its level statistics.

    Each stem is encoded on its own thread (libsndfile frees the GIL): FLAC encoding in the caller's
    thread held an H200 at a quarter of its Demucs throughput. At most ``max_pending`` blocks per stem
    wait, so memory stays bounded when encoding is slower than separation."""

    def __init__(self, folder: str | Path, sources: list[str], samplerate_hz: int, fmt: str = "flac",
                 subtype: str = "PCM_16", active_threshold_dbfs: float = -45.0, frame_sec: float = ENVELOPE_FRAME_SEC,
                 max_pending: int = 8):
        import soundfile as sf

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sources = list(sources)
        self.paths = {name: self.folder / f"{name}.{fmt}" for name in self.sources}
        self.files = {name: sf.SoundFile(self.paths[name], "w", samplerate_hz, 2, subtype=subtype, format=fmt.upper())
                      for name in self.sources}
        self.stats = {name: StemStats(int(frame_sec * samplerate_hz), active_threshold_dbfs) for name in self.sources}
        # one thread per stem keeps each file's blocks in order
        self.threads = {name: ThreadPoolExecutor(1, thread_name_prefix=f"stem-{name}") for name in self.sources}
        self.pending = {name: deque() for name in self.sources}
        self.max_pending = max_pending

    def _write(self, name: str, stem: np.ndarray) -> None:
        self.files[name].write(np.clip(stem, -1.0, 1.0))
        self.stats[name].add(stem)

    def __call__(self, block: np.ndarray) -> None:
        """``block``: (sources, n, 2) float32, owned by this sink from now on."""
        for name, stem in zip(self.sources, block):
            queue = self.pending[name]
            if len(queue) >= self.max_pending:
                queue.popleft().result()  # waits, and raises a failed write here
            queue.append(self.threads[name].submit(self._write, name, stem))

    def close(self) -> dict:
        """Finish writing and close the files (re-raising the first failed write); returns
        {stem: {"path", "rms_dbfs", "active_ratio", "frame_rms"}} (``frame_sec`` frames)."""
        try:
            for name in self.sources:
                while self.pending[name]:
                    self.pending[name].popleft().result()
        finally:
            for name in self.sources:
                self.threads[name].shutdown(wait=True, cancel_futures=True)
                self.files[name].close()
        return {name: {"path": str(self.paths[name]), **self.stats[name].result()} for name in self.sources}


def close_all(sinks: list[StemFiles]) -> list[dict]:
    """Close every sink, even after one fails (each holds files and encoder threads), then raise the first failure."""
    stats, failure = [], None
    for sink in sinks:
        try:
            stats.append(sink.close())
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return stats


def vocal_flags(stats: dict, min_active_ratio: float) -> dict:
    """has_vocals / instrumental from the vocals stem's active ratio (share of frames above threshold)."""
    if "vocals" not in stats:
        return {"has_vocals": None, "instrumental": None}
    has = stats["vocals"]["active_ratio"] >= min_active_ratio
    return {"has_vocals": bool(has), "instrumental": not has}
