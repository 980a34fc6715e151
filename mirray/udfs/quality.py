"""Quality flags for training data: bitrate, duration, clipping, silence, and real bandwidth (a low
cutoff in a high-bitrate file betrays an MP3 transcoded up from a lower bitrate)."""

from __future__ import annotations

import numpy as np

from mirray.udfs.audio import any_channel, to_mono


def bandwidth_hz(mono: np.ndarray, sr_hz: int, n_fft: int = 4096, max_frames: int = 400,
                 drop_db: float = 25.0, span_hz: float = 500.0) -> float | None:
    """Upper edge of the real content: the highest frequency where the long-term spectrum falls by
    ``drop_db`` within ±``span_hz`` and stays down above it; Nyquist when there is no such cliff.

    Encoders low-pass steeply before coding (≈16 kHz at 128 kbps, ≈20 kHz at 320 kbps); music's own
    high-frequency roll-off is gradual, so a cliff is the encoder's mark.
    """
    if len(mono) < n_fft:
        return None
    starts = np.linspace(0, len(mono) - n_fft, num=min(max_frames, 1 + (len(mono) - n_fft) // (n_fft // 2))).astype(int)
    frames = np.stack([mono[s:s + n_fft] for s in starts]) * np.hanning(n_fft)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    if not np.any(power > 0):
        return None
    level_db = np.convolve(10 * np.log10(power + 1e-30), np.ones(9) / 9, mode="same")  # ~100 Hz smoothing
    hz_per_bin = sr_hz / n_fft
    w = max(1, int(span_hz / hz_per_bin))
    top = len(level_db) - 5  # the smoothing kernel's edge
    for i in range(top - w - 1, w + int(2000 / hz_per_bin), -1):  # from the top down, not below 2 kHz
        below = level_db[i - w]
        if below - level_db[i + w] > drop_db and level_db[i + w:top].max() < below - drop_db:
            # the cliff's edge: the last bin still within 6 dB of the level below the drop
            edge = i - w + np.nonzero(level_db[i - w:i + w] > below - 6)[0][-1]
            return float(edge * hz_per_bin)
    return float(sr_hz / 2)


def quality_flags(samples: np.ndarray, sr_hz: int, bitrate_kbps: float | None, duration_sec: float, cfg: dict) -> dict:
    """Flags and ratios. ``samples``: float32 (frames, channels) at the decoded rate; ``cfg``: config["quality"]."""
    mono = to_mono(samples)
    clipped = any_channel(lambda x: np.abs(x) >= cfg["clip_level"], samples)
    frame = max(1, int(0.1 * sr_hz))
    n = len(mono) // frame
    frame_rms = np.sqrt(np.mean(np.square(mono[: n * frame].reshape(n, frame)), axis=1)) if n else np.zeros(0)
    silent = frame_rms < 10 ** (cfg["silence_threshold_dbfs"] / 20)
    bw = bandwidth_hz(mono, sr_hz, drop_db=cfg["bandwidth_drop_db"])
    low_bitrate = None if bitrate_kbps is None else bool(bitrate_kbps < cfg["min_bitrate_kbps"])
    return {
        "low_bitrate": low_bitrate,
        "duration_out_of_range": not (cfg["min_duration_sec"] <= duration_sec <= cfg["max_duration_sec"]),
        "clipping_ratio": float(clipped.mean()),
        "silence_ratio": float(silent.mean()) if n else None,
        "bandwidth_hz": bw,
        # a file that claims a high bitrate but carries a low-bitrate encoder's low-pass
        "likely_transcoded": (None if bw is None or bitrate_kbps is None
                              else bool(bitrate_kbps >= cfg["transcode_min_claimed_kbps"] and bw < cfg["transcode_max_bandwidth_hz"])),
    }
