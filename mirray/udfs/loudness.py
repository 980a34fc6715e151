"""Loudness (EBU R128 via pyloudnorm) and peak levels of decoded audio."""

from __future__ import annotations

import numpy as np
import soxr


def _db(x: float) -> float | None:
    return float(20 * np.log10(x)) if x > 0 else None


def true_peak_dbtp(samples: np.ndarray, sr_hz: int, oversample: int = 4, blocks: int = 8, block_len: int = 2048) -> float | None:
    """Peak of the 4x-oversampled signal (ITU-R BS.1770 style), dBTP.

    Inter-sample peaks sit next to sample peaks, so only the ``blocks`` loudest blocks are oversampled
    (with soxr), not the whole song.
    """
    mono_abs = np.abs(samples).max(axis=1)
    n_blocks = max(1, len(mono_abs) // block_len)
    block_peaks = mono_abs[: n_blocks * block_len].reshape(n_blocks, block_len).max(axis=1)
    peak = float(mono_abs.max())
    for b in np.argsort(block_peaks)[-blocks:]:
        lo, hi = max(0, (b - 1) * block_len), min(len(samples), (b + 2) * block_len)  # a block of context each side
        up = soxr.resample(samples[lo:hi], sr_hz, sr_hz * oversample, quality="HQ")
        centre = (b * block_len - lo) * oversample  # cut edges ring: look at the central block only
        peak = max(peak, float(np.abs(up[centre:centre + block_len * oversample]).max()))
    return _db(peak)


def loudness(samples: np.ndarray, sr_hz: int) -> dict:
    """Integrated loudness (LUFS), loudness range (LU), sample and true peak (dBFS / dBTP), crest factor (dB).

    ``samples``: float32 (frames, channels). Audio shorter than one 400 ms gating block gives None values.
    """
    import pyloudnorm

    out = {"loudness_lufs": None, "loudness_range_lu": None, "sample_peak_dbfs": None,
           "true_peak_dbtp": None, "crest_factor_db": None}
    if samples.shape[0] < int(0.4 * sr_hz):
        return out
    data = samples.astype(np.float64)
    meter = pyloudnorm.Meter(sr_hz)
    lufs = meter.integrated_loudness(data)
    out["loudness_lufs"] = float(lufs) if np.isfinite(lufs) else None
    if samples.shape[0] >= 3 * sr_hz:
        try:
            lra = meter.loudness_range(data)
            out["loudness_range_lu"] = float(lra) if lra is not None and np.isfinite(lra) else None
        except Exception:  # pyloudnorm raises on fully gated (silent) input
            out["loudness_range_lu"] = None
    peak = float(np.abs(samples).max())
    rms = float(np.sqrt(np.mean(np.square(data))))
    out["sample_peak_dbfs"] = _db(peak)
    out["true_peak_dbtp"] = true_peak_dbtp(samples, sr_hz)
    out["crest_factor_db"] = (_db(peak) - _db(rms)) if peak > 0 and rms > 0 else None
    return out
