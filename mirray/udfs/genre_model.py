"""A trainable genre model: multinomial logistic regression on the genre features, stored as JSON.

Fit it on songs whose genre is known — a collection's own tagged songs (``mirray genre-fit``) or a
labelled set — and name the file in config: ``theory.genre_model: linear:/path/model.json``. Its
probabilities are fitted by log loss, so they are calibrated for songs like the training songs; no
sharpness is applied to them. It predicts only the genres it was trained on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# One number per feature, each a convention a genre keeps (genre.features_for_genre gives the inputs).
FEATURES = ("tempo_z", "tempo_z_sq", "tempo_confidence", "triple_meter", "has_vocals", "swing_excess", "swing_heard",
            "backbeat", "four_on_floor", "high_backbeat", "high_band_onset_ratio", "seventh_share", "dominant7_share",
            "progression_complexity", "twelve_bar", "pop_progression")


def _backbeat(accents: list[float] | None) -> float:
    """Beats 2 and 4 over beats 1 and 3 (4/4 only; 0 otherwise)."""
    if not accents or len(accents) != 4:
        return 0.0
    return float(accents[1] + accents[3] - accents[0] - accents[2]) / 2


def vector(f: dict) -> np.ndarray:
    """The FEATURES of one song's genre features (missing values neutral: 0, or 0.5 for unknown vocals)."""
    tempo_z = ((f.get("tempo_bpm") or 120.0) - 120.0) / 30.0
    swing = f.get("swing_ratio")
    low = f.get("low_accent_by_position") or []
    vocals = f.get("has_vocals")
    values = {
        "tempo_z": tempo_z, "tempo_z_sq": tempo_z ** 2, "tempo_confidence": f.get("tempo_confidence") or 0.0,
        "triple_meter": float(f.get("time_signature") in ("3/4", "6/8")),
        "has_vocals": 0.5 if vocals is None else float(vocals),
        "swing_excess": float(np.clip((swing or 1.0) - 1.0, 0.0, 1.5)), "swing_heard": float(swing is not None),
        "backbeat": _backbeat(f.get("accent_by_position")), "four_on_floor": float(min(low)) if len(low) == 4 else 0.0,
        "high_backbeat": _backbeat(f.get("high_accent_by_position")),
        "high_band_onset_ratio": f.get("high_band_onset_ratio") or 0.0,
        "seventh_share": f.get("seventh_share") or 0.0, "dominant7_share": f.get("dominant7_share") or 0.0,
        "progression_complexity": f.get("progression_complexity") or 0.0,
        "twelve_bar": float(bool(f.get("twelve_bar"))), "pop_progression": float(bool(f.get("pop_progression"))),
    }
    return np.array([values[name] for name in FEATURES], dtype=np.float64)


class LinearGenreModel:
    """``predict(features) -> {genre: probability}`` from a JSON file written by ``fit(...).save(path)``."""

    calibrated = True  # genre.genre_analysis uses the probabilities as they are

    def __init__(self, path: str | None = None, params: dict | None = None):
        if params is None:
            if path is None:
                raise ValueError("LinearGenreModel needs a model file: theory.genre_model: linear:/path/model.json")
            params = json.loads(Path(path).read_text())
        if tuple(params["features"]) != FEATURES:
            raise ValueError(f"genre model {path or ''} was fitted on other features: {params['features']}")
        self.params = params
        self.genres = list(params["genres"])
        self._mean, self._scale = np.asarray(params["mean"]), np.asarray(params["scale"])
        self._coef, self._intercept = np.asarray(params["coef"]), np.asarray(params["intercept"])

    def predict(self, features: dict) -> dict[str, float]:
        z = self._coef @ ((vector(features) - self._mean) / self._scale) + self._intercept
        p = np.exp(z - z.max())
        return dict(zip(self.genres, (p / p.sum()).tolist()))

    @classmethod
    def fit(cls, feature_dicts: list[dict], labels: list[str], c: float = 1.0) -> "LinearGenreModel":
        """L2-regularised (``c``: inverse strength, scikit-learn's C) on standardised features."""
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise ValueError(f"a genre model needs songs of at least 2 genres, got {sorted(set(labels))}")
        x = np.stack([vector(f) for f in feature_dicts])
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        clf = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, labels)
        coef, intercept = clf.coef_, clf.intercept_
        if len(clf.classes_) == 2:  # scikit-learn keeps one row for two classes: make it softmax-shaped
            coef, intercept = np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(params={"features": list(FEATURES), "genres": clf.classes_.tolist(), "mean": mean.tolist(),
                           "scale": scale.tolist(), "coef": coef.tolist(), "intercept": intercept.tolist(), "c": c,
                           "trained_songs": len(labels)})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.params, indent=1))


C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def cross_validate(feature_dicts: list[dict], labels: list[str], c: float, folds: int, seed: int = 0) -> tuple[float, float]:
    """(top-1 accuracy, log loss) over ``folds`` stratified folds: every song predicted by a model that did not see it."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for g in sorted(set(labels)):
        idx = [i for i, lab in enumerate(labels) if lab == g]
        fold_of[idx] = rng.permutation(np.arange(len(idx)) % folds)
    hits, losses = [], []
    for k in range(folds):
        train = np.flatnonzero(fold_of != k)
        model = LinearGenreModel.fit([feature_dicts[i] for i in train], [labels[i] for i in train], c)
        for i in np.flatnonzero(fold_of == k):
            p = model.predict(feature_dicts[i])
            hits.append(max(p, key=p.get) == labels[i])
            losses.append(-np.log(max(p.get(labels[i], 0.0), 1e-9)))
    return float(np.mean(hits)), float(np.mean(losses))


def fit_best(feature_dicts: list[dict], labels: list[str], folds: int = 5, grid: tuple[float, ...] = C_GRID
             ) -> tuple[LinearGenreModel, dict[float, tuple[float, float]]]:
    """Choose the regularisation by cross-validated log loss (what calibration needs), then fit on all
    songs. Returns (model, {c: (accuracy, log loss)})."""
    folds = min(folds, min(labels.count(g) for g in set(labels)))
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 songs of every genre")
    scores = {c: cross_validate(feature_dicts, labels, c, folds) for c in grid}
    best = min(scores, key=lambda c: scores[c][1])
    return LinearGenreModel.fit(feature_dicts, labels, best), scores
