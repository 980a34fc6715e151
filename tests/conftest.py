import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mirray.corpus.synth import render_clip, write_demo_corpus, write_mp3  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Six tagged 10-second MP3s with known tempo and key (generated once per session)."""
    folder = tmp_path_factory.mktemp("corpus")
    truths = write_demo_corpus(folder, duration_sec=10.0)
    return folder, truths


@pytest.fixture
def songs_dir(corpus_dir, tmp_path) -> tuple[Path, list[dict]]:
    """A private copy of the corpus that a test may add to."""
    src, truths = corpus_dir
    dst = tmp_path / "in"
    shutil.copytree(src, dst)
    return dst, [{**t, "path": str(dst / Path(t["path"]).name)} for t in truths]


@pytest.fixture(scope="session")
def local_ray():
    import ray

    if not ray.is_initialized():
        # one logical GPU: GPU-scheduled Demucs actors are placed for real, then run on CPU (no CUDA here)
        ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


@pytest.fixture
def make_mp3(tmp_path):
    def make(path: Path, tempo_bpm=110.0, tonic="D", mode="major", duration_sec=8.0, seed=7, tags=None) -> Path:
        samples, _ = render_clip(tempo_bpm, tonic, mode, duration_sec, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_mp3(path, samples, 44100, tags or {"title": path.stem})

    return make


@pytest.fixture(scope="session")
def tiny_model_repo(tmp_path_factory) -> Path:
    """A randomly initialised tiny HTDemucs saved in Demucs's own local-repo format."""
    from mirray.corpus.tiny_demucs import write_tiny_htdemucs

    return write_tiny_htdemucs(tmp_path_factory.mktemp("models"))


@pytest.fixture
def stems_overrides(tiny_model_repo) -> list[str]:
    return ["separation.model=tiny_htdemucs", f"separation.model_repo={tiny_model_repo}", "separation.segments_per_batch=4"]
