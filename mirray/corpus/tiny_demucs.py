"""Demucs models in Demucs's own local-repo format, built at test time (no weights are committed)."""

from __future__ import annotations

from pathlib import Path

TINY = dict(channels=8, depth=4, dconv_comp=4, t_layers=1, t_heads=2)  # 0.38 M params, ~0.8 MB


def write_htdemucs(folder: str | Path, name: str = "tiny_htdemucs", seed: int = 0, **kwargs) -> Path:
    """Save a randomly initialised HTDemucs as ``folder/<name>-<sha8>.th`` so that
    ``demucs.pretrained.get_model(name, repo=folder)`` loads it. ``kwargs`` go to HTDemucs."""
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state, save_with_checksum

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], **kwargs)
    args, kw = model._init_args_kwargs
    package = {"klass": HTDemucs, "args": args, "kwargs": kw, "state": get_state(model, None, half=True)}
    save_with_checksum(package, folder / f"{name}.th")
    return folder


def write_tiny_htdemucs(folder: str | Path, name: str = "tiny_htdemucs") -> Path:
    return write_htdemucs(folder, name, **TINY)


def write_full_htdemucs(folder: str | Path, name: str = "htdemucs_random") -> Path:
    """The released htdemucs layout (42.0 M params: bottom_channels=512, dconv_mode=3, 7.8 s segments)
    with random weights: the same compute as the pretrained model."""
    return write_htdemucs(folder, name, segment=7.8, bottom_channels=512, dconv_mode=3)
