"""A plain librosa baseline for mir_eval_bench.py: what a user gets from librosa's documented building
blocks with textbook glue and no tuning, to show what mirray's own methods add over it.

- tempo and beats: ``librosa.beat.beat_track`` with its defaults (Ellis's dynamic-programming tracker);
- key: Krumhansl–Kessler profiles correlated with the song's mean ``chroma_cqt`` (Krumhansl–Schmuckler; mirray's
  ``key_from_chroma`` with none of its chord cues, which is exactly that);
- chords: beat-synchronous ``chroma_cqt`` against 24 binary major/minor triad templates, a softmax of
  the cosine similarities, decoded by ``librosa.sequence.viterbi_discriminative`` with a self-loop
  (``transition_loop``, 0.8);
- sections: ``librosa.segment.agglomerative`` on beat-synchronous chroma + MFCC, one section per 20 s
  of audio (a typical pop section), boundaries only: agglomerative clustering gives no labels.
No downbeats or time signature: librosa has no meter estimator.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from mirray.udfs import audio
from mirray.udfs.mir import PITCH_CLASSES, key_from_chroma

SR_HZ, HOP = 22050, 512
SECTION_SEC = 20.0


def librosa_run(path: Path) -> tuple[dict, float]:
    """(estimates in the shape ``mir_eval_bench.score`` reads, CPU seconds including the decode)."""
    import librosa

    cpu0 = time.process_time()
    samples, sr_hz = audio.decode(path.read_bytes())
    y = audio.resample(audio.to_mono(samples), sr_hz, SR_HZ)
    duration_sec = len(y) / SR_HZ
    tempo, beat_frames = librosa.beat.beat_track(y=y, sr=SR_HZ, hop_length=HOP)
    beat_times = librosa.frames_to_time(beat_frames, sr=SR_HZ, hop_length=HOP)
    chroma = librosa.feature.chroma_cqt(y=y, sr=SR_HZ, hop_length=HOP)
    est = {"tempo_bpm": float(np.atleast_1d(tempo)[0]), "beat_times_sec": beat_times.tolist(),
           "key": key_from_chroma(chroma.mean(axis=1), "krumhansl")["key"]}
    bounds = librosa.util.fix_frames(beat_frames, x_min=0, x_max=chroma.shape[1])
    span_times = np.append(librosa.frames_to_time(bounds[:-1], sr=SR_HZ, hop_length=HOP), duration_sec)
    est["chords"] = _chords(librosa.util.sync(chroma, bounds, aggregate=np.median), span_times)
    mfcc = librosa.feature.mfcc(y=y, sr=SR_HZ, hop_length=HOP, n_mfcc=13)
    features = librosa.util.sync(np.vstack([chroma, librosa.util.normalize(mfcc, axis=1)]), bounds, aggregate=np.median)
    k = int(np.clip(round(duration_sec / SECTION_SEC), 1, features.shape[1]))
    starts = span_times[librosa.segment.agglomerative(features, k)] if k > 1 else np.array([0.0])
    edges = np.append(np.maximum(starts, 0.0), duration_sec)
    est["sections"] = [{"start_sec": float(a), "end_sec": float(b), "label": None} for a, b in zip(edges[:-1], edges[1:]) if b > a]
    return est, time.process_time() - cpu0


def _chords(sync_chroma: np.ndarray, span_times: np.ndarray, sharpness: float = 20.0, stay: float = 0.8) -> list[dict]:
    import librosa

    labels = [f"{PITCH_CLASSES[r]}:{q}" for q in ("maj", "min") for r in range(12)]
    templates = np.array([np.roll([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0] if q == "maj" else [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], r)
                          for q in ("maj", "min") for r in range(12)], dtype=float)
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    unit = sync_chroma / np.maximum(np.linalg.norm(sync_chroma, axis=0), 1e-9)
    logits = sharpness * (templates @ unit)
    prob = np.exp(logits - logits.max(axis=0))
    prob /= prob.sum(axis=0)
    path = librosa.sequence.viterbi_discriminative(prob, librosa.sequence.transition_loop(len(labels), stay))
    return [{"start_sec": float(span_times[i]), "end_sec": float(span_times[i + 1]), "label": labels[s]}
            for i, s in enumerate(path) if span_times[i + 1] > span_times[i]]
