"""Genre: the tag genre normalised to a small taxonomy, combined with audio/theory conventions.

The rule model here is a transparent baseline; its scores become probabilities through one fitted
sharpness, which is all the calibration it has (BENCHMARKS.md). A trained model plugs in through the
same interface: any object with ``predict(features: dict) -> dict[str, float]`` (scores per genre; a
``calibrated = True`` attribute says they are probabilities already), named in config as
``theory.genre_model: package.module:ClassName``, or ``linear:/path/model.json`` for the logistic
regression that ``mirray genre-fit`` trains on a collection's tagged songs (genre_model.py).
"""

from __future__ import annotations

import functools
import importlib
import re

import numpy as np

from mirray.udfs.mir import parse_label

TAXONOMY = ("rock", "pop", "blues", "jazz", "electronic", "hip-hop", "country", "classical", "folk", "r&b", "metal", "reggae", "latin")

# Keyword (regex on the lower-cased tag) -> genre; first match wins, so specific before general.
TAG_RULES = (
    (r"metal|grindcore|thrash", "metal"), (r"hip.?hop|rap|trap\b|grime", "hip-hop"), (r"r&b|rnb|soul|funk", "r&b"),
    (r"blues", "blues"), (r"jazz|swing|bebop|bossa", "jazz"), (r"country|bluegrass|americana", "country"),
    (r"classical|baroque|orchestra|symphon|opera|chamber|choral", "classical"), (r"reggae|ska|dub\b|dancehall", "reggae"),
    (r"latin|salsa|reggaeton|samba|tango|cumbia", "latin"), (r"folk|acoustic|singer.?songwriter", "folk"),
    (r"electro|edm|house|techno|trance|dance|dubstep|drum.?n.?bass|ambient|synth", "electronic"),
    (r"rock|punk|grunge|indie|alternative|new wave", "rock"), (r"pop", "pop"),
)


def normalise_tag(tag: str | None) -> str | None:
    if not tag:
        return None
    t = tag.lower()
    return next((genre for pattern, genre in TAG_RULES if re.search(pattern, t)), None)


class RulesGenreModel:
    """Scores from musical conventions; every rule is one line below."""

    def predict(self, f: dict) -> dict[str, float]:
        tempo = f.get("tempo_bpm") or 0.0
        swing = f.get("swing_ratio") or 1.0
        sevenths = f.get("seventh_share") or 0.0
        accents = f.get("accent_by_position") or []
        vocals = f.get("has_vocals")
        steady = f.get("tempo_confidence") or 0.0
        s = dict.fromkeys(TAXONOMY, 0.1)
        low = f.get("low_accent_by_position") or []
        high_ratio = f.get("high_band_onset_ratio")
        # the kick on every beat: the low band is about as strong on each position (phase-free, so a
        # misplaced downbeat does not hide it)
        four_on_floor = len(low) == 4 and min(low) >= 0.6
        backbeat = len(accents) == 4 and accents[1] > accents[0] * 0.9 and accents[3] > accents[2] * 0.9
        no_drums = high_ratio is not None and high_ratio < 0.7  # few onsets above 4 kHz: no hats, snare or cymbals
        for g in ("electronic", "rock", "pop", "hip-hop"):
            s[g] -= 0.3 * no_drums
        # a walking bass is on every beat too; dance music is straight (or lightly swung), jazz is not
        s["electronic"] += (0.5 * four_on_floor + 0.3 * (118 <= tempo <= 135) + 0.2 * (steady > 0.95) - 0.2 * (vocals is True)
                            - 0.4 * (swing > 1.4))
        s["rock"] += 0.4 * backbeat + 0.2 * (100 <= tempo <= 160) + 0.1 * (sevenths < 0.2)
        s["pop"] += 0.3 * backbeat + 0.2 * (90 <= tempo <= 130) + 0.3 * (vocals is True) + 0.2 * bool(f.get("pop_progression"))
        s["blues"] += 0.7 * bool(f.get("twelve_bar")) + 0.2 * (swing > 1.4) + 0.2 * (f.get("dominant7_share", 0) > 0.3)
        s["jazz"] += 0.5 * (sevenths > 0.5) + 0.3 * (swing > 1.4) + 0.2 * (f.get("progression_complexity", 0) > 0.5)
        s["hip-hop"] += 0.4 * (70 <= tempo <= 100) + 0.3 * (vocals is True) + 0.2 * backbeat - 0.2 * (sevenths > 0.5)
        s["country"] += 0.3 * (f.get("time_signature") == "3/4") + 0.2 * (swing > 1.2) + 0.2 * bool(f.get("pop_progression"))
        s["classical"] += 0.5 * (steady < 0.6) + 0.3 * (vocals is False) + 0.2 * (f.get("time_signature") == "3/4") + 0.6 * no_drums
        s["folk"] += 0.2 * (steady < 0.8) + 0.2 * (f.get("time_signature") == "3/4")
        return s


@functools.lru_cache(maxsize=4)  # once per worker process, not per song
def load_model(spec: str = "rules"):
    if spec == "rules":
        return RulesGenreModel()
    if spec.startswith("linear:"):
        from mirray.udfs.genre_model import LinearGenreModel

        return LinearGenreModel(spec.partition(":")[2])
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)()


def scores_to_probs(scores: dict[str, float], sharpness: float = 1.0) -> dict[str, float]:
    """Model scores -> probabilities: score**sharpness, normalised. ``sharpness`` is the one calibration
    knob (ranking unchanged): fitted by log loss on labelled songs (benchmarks/genre_bench.py)."""
    powered = {g: max(v, 0.0) ** sharpness for g, v in scores.items()}
    total = sum(powered.values()) or 1.0
    return {g: v / total for g, v in powered.items()}


def genre_analysis(features: dict, tag_genre: str | None, model=None, tag_weight: float = 0.6, top_k: int = 3,
                   sharpness: float = 1.0) -> dict:
    """Seed's genre_analysis block. Model scores become probabilities (``scores_to_probs``); a recognised
    tag genre takes ``tag_weight`` of the mass (tags are the strongest evidence a file carries)."""
    model = model or RulesGenreModel()
    scores = model.predict(features)
    probs = scores if getattr(model, "calibrated", False) else scores_to_probs(scores, sharpness)
    tag = normalise_tag(tag_genre)
    if tag and tag not in probs:
        probs[tag] = 0.0  # a tag the model never predicts still counts
    if tag:
        probs = {g: (1 - tag_weight) * p + (tag_weight if g == tag else 0.0) for g, p in probs.items()}
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])[:top_k]
    return {
        "primary_genre": ranked[0][0],
        "confidence": round(float(ranked[0][1]), 3),
        "predicted_genres": [{"genre": g, "confidence": round(float(p), 3)} for g, p in ranked],
        "tag_genre": tag,
        "source": ("tag+" if tag else "") + ("rules" if isinstance(model, RulesGenreModel) else "model"),
    }


def features_for_genre(row: dict, harmonic: dict, rhythmic: dict) -> dict:
    labels = [c["label"] for c in row.get("chords") or [] if c["label"] != "N"]
    pats = {p["pattern"] for p in harmonic.get("common_patterns") or []}
    return {
        "tempo_bpm": row.get("tempo_bpm"), "tempo_confidence": row.get("tempo_confidence"),
        "time_signature": row.get("time_signature"), "has_vocals": row.get("has_vocals"),
        "swing_ratio": rhythmic.get("swing_ratio"),
        "accent_by_position": (rhythmic.get("metric_hierarchy") or {}).get("accent_by_position"),
        "low_accent_by_position": (rhythmic.get("metric_hierarchy") or {}).get("low_accent_by_position"),
        "high_accent_by_position": (rhythmic.get("metric_hierarchy") or {}).get("high_accent_by_position"),
        "high_band_onset_ratio": rhythmic.get("high_band_onset_ratio"),
        "seventh_share": float(np.mean([parse_label(lab)[1] in ("7", "maj7", "min7") for lab in labels])) if labels else 0.0,
        "dominant7_share": float(np.mean([parse_label(lab)[1] == "7" for lab in labels])) if labels else 0.0,
        "progression_complexity": harmonic.get("progression_complexity") or 0.0,
        "twelve_bar": "12-bar blues" in pats,
        "pop_progression": bool(pats & {"I-V-vi-IV", "vi-IV-I-V", "I-vi-IV-V"}),
    }
