"""Chords: beat-synchronous chroma, template likelihoods, HMM (Viterbi) smoothing. Harte labels."""

from __future__ import annotations

import numpy as np

from mirray.udfs.mir import PITCH_CLASSES

QUALITIES = {  # intervals above the root; Harte shorthand
    "maj": (0, 4, 7), "min": (0, 3, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10),
}
VOCABULARIES = {"majmin": ("maj", "min"), "sevenths": ("maj", "min", "7", "maj7", "min7")}


# Pitch classes of a tone's first six harmonics (unison, octave, 12th, 2 octaves, 17th, 19th).
HARMONIC_PCS = (0, 0, 7, 0, 4, 7)


def chord_templates(vocabulary: str = "majmin", harmonic_decay: float = 0.6) -> tuple[list[str], np.ndarray]:
    """Labels (root:quality for every root, then "N") and unit-norm 12-bin templates, shape (n_chords, 12).

    Each chord tone brings its harmonics (weights ``harmonic_decay``**(h-1)), as real tones do in a
    chromagram: the third of a triad puts energy on the major seventh, the fifth on the ninth, and a
    plain-tone template would mistake triads for seventh chords. The root weighs 1.5 (it carries the bass).
    """
    labels, rows = [], []
    for quality in VOCABULARIES[vocabulary]:
        for root in range(12):
            t = np.zeros(12)
            for i, iv in enumerate(QUALITIES[quality]):
                for h, hpc in enumerate(HARMONIC_PCS):
                    t[(root + iv + hpc) % 12] += (1.5 if i == 0 else 1.0) * harmonic_decay ** h
            labels.append(f"{PITCH_CLASSES[root]}:{quality}")
            rows.append(t / np.linalg.norm(t))
    labels.append("N")
    rows.append(np.ones(12) / np.sqrt(12))
    return labels, np.array(rows)


def seventh_evidence(segment_chroma: np.ndarray, root: int, minor: bool) -> dict:
    """How far the b7 and maj7 pitch classes rise above the segment's non-chord floor, relative to the
    triad (0: at the floor, 1: as loud as the triad tones)."""
    triad = {root, (root + (3 if minor else 4)) % 12, (root + 7) % 12}
    floor = float(np.median([segment_chroma[p] for p in range(12) if p not in triad]))
    level = float(np.mean([segment_chroma[p] for p in triad])) - floor
    if level <= 0:
        return {"b7": 0.0, "maj7": 0.0}
    return {"b7": (segment_chroma[(root + 10) % 12] - floor) / level, "maj7": (segment_chroma[(root + 11) % 12] - floor) / level}


def add_sevenths(segments: list[dict], chroma: np.ndarray, frame_times_sec: np.ndarray,
                 b7_min: float = 0.3, maj7_min: float = 0.42) -> list[dict]:
    """Second pass for the sevenths vocabulary: extend a triad when its seventh stands out.

    The maj7 bar is higher than the b7 one because a major third's 3rd harmonic lands on the maj7.
    """
    for seg in segments:
        if seg["label"] == "N":
            continue
        root_name, quality = seg["label"].split(":")
        frames = (frame_times_sec >= seg["start_sec"]) & (frame_times_sec < seg["end_sec"])
        if not frames.any():
            continue
        ev = seventh_evidence(np.median(chroma[:, frames], axis=1), PITCH_CLASSES.index(root_name), quality == "min")
        if quality == "min" and ev["b7"] >= b7_min:
            seg["label"] = f"{root_name}:min7"
        elif quality == "maj" and max(ev["b7"] - b7_min, ev["maj7"] - maj7_min) >= 0:
            seg["label"] = f"{root_name}:{'7' if ev['b7'] - b7_min >= ev['maj7'] - maj7_min else 'maj7'}"
    return segments


def diatonic_bonus(labels: list[str], key: str | None, bonus: float) -> np.ndarray:
    """``bonus`` for each label whose triad belongs to ``key`` ("A minor"), 0 elsewhere (and for "N")."""
    from mirray.udfs.mir import DIATONIC, pitch_class

    out = np.zeros(len(labels))
    if not key or not bonus:
        return out
    tonic_name, mode = key.split()
    tonic = pitch_class(tonic_name)
    for i, label in enumerate(labels):
        if label != "N":
            root, quality = label.split(":")
            out[i] = bonus if quality in DIATONIC[mode].get((pitch_class(root) - tonic) % 12, ()) else 0.0
    return out


def estimate_chords(chroma: np.ndarray, frame_times_sec: np.ndarray, beat_frames: np.ndarray, duration_sec: float,
                    vocabulary: str = "sevenths", self_transition: float = 0.9, sharpness: float = 40.0,
                    key: str | None = None, key_bonus: float = 0.02) -> list[dict]:
    """Timed chord labels. ``chroma``: (12, n_frames) with frame times ``frame_times_sec``; beats as frame indices.

    Each inter-beat span gets major/minor template cosine similarities, turned into probabilities with
    a softmax of ``sharpness``; a Viterbi pass with a ``self_transition`` loop keeps chords from
    flickering. With a ``key``, chords diatonic to it gain ``key_bonus`` of similarity: a small prior
    (most chords in a song are diatonic) that settles near-ties a melody note or a seventh creates,
    not a rule (borrowed chords and secondary dominants still win on clear evidence). Spans of (near)
    silence are "N". For the sevenths vocabulary a second pass extends triads whose seventh stands out
    (``add_sevenths``). Returns [{"start_sec", "end_sec", "label"}], merged.
    """
    import librosa

    labels, templates = chord_templates("majmin")
    n_frames = chroma.shape[1]
    bounds = np.unique(np.clip(np.concatenate([[0], np.asarray(beat_frames, dtype=int), [n_frames]]), 0, n_frames))
    if len(bounds) < 2:
        return []
    # median chroma of each span: before the first beat, beat to beat, after the last
    sync = np.stack([np.median(chroma[:, a:b], axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)
    energy = np.array([chroma[:, a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])])
    norms = np.linalg.norm(sync, axis=0)
    unit = sync / np.maximum(norms, 1e-9)
    sim = templates @ unit  # (n_chords, n_spans)
    sim[-1] = 0.0  # "N" only for silence: a chord-less span is likelier a melody note over a held chord
    sim += diatonic_bonus(labels, key, key_bonus)[:, None]
    silent = (norms < 1e-6) | (energy < 1e-6 * max(energy.max(), 1e-12))
    sim[:, silent] = 0.0
    sim[-1, silent] = 1.0
    prob = np.exp(sharpness * (sim - sim.max(axis=0)))
    prob /= prob.sum(axis=0)
    transition = librosa.sequence.transition_loop(len(labels), self_transition)
    path = librosa.sequence.viterbi(prob, transition)
    times = np.append(frame_times_sec[np.minimum(bounds[:-1], len(frame_times_sec) - 1)], duration_sec)
    times[0] = 0.0
    out: list[dict] = []
    for i, state in enumerate(path):
        start, end = float(times[i]), float(times[i + 1])
        if end <= start:
            continue
        if out and out[-1]["label"] == labels[state]:
            out[-1]["end_sec"] = end
        else:
            out.append({"start_sec": start, "end_sec": end, "label": labels[state]})
    if vocabulary == "sevenths":
        out = add_sevenths(out, chroma, frame_times_sec)
    return out
