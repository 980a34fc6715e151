"""Demucs wrapper on a tiny model in Demucs's own format: batching, streaming, stats, missing weights."""

import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch
from demucs.apply import apply_model

from mirray.udfs import separation


@pytest.fixture(scope="module")
def model(tiny_model_repo):
    return separation.load_model("tiny_htdemucs", str(tiny_model_repo))


@pytest.mark.parametrize("model_thread", [False, True], ids=["inline", "model-thread"])
def test_batched_streaming_equals_demucs_apply_model(model, model_thread):
    """Segments of three songs of different lengths run together and stream out in blocks; every
    song's stems equal demucs.apply.apply_model on that song alone, also when the model runs a batch
    ahead on its own thread (the GPU default)."""
    rng = np.random.default_rng(0)
    mixes = [rng.standard_normal((int(44100 * sec), 2)).astype(np.float32) * 0.1 for sec in (17.0, 2.5, 9.0)]
    blocks = [[] for _ in mixes]
    sep = separation.Separator(model, "cpu", segments_per_batch=3, model_thread=model_thread)
    sep.separate_many(mixes, [b.append for b in blocks])
    for mix, got in zip(mixes, blocks):
        stems = np.concatenate(got, axis=1).transpose(0, 2, 1)  # (sources, 2, frames)
        ref = apply_model(model, torch.from_numpy(mix.T[None].copy()), shifts=0, split=True, overlap=0.25)[0].numpy()
        assert stems.shape == ref.shape
        np.testing.assert_allclose(stems, ref, atol=1e-5)
    assert len(blocks[0]) > 1  # the long song came out in several blocks, not one array


def test_mono_input_is_separated_as_stereo(model):
    mono = np.random.default_rng(1).standard_normal((44100 * 3, 1)).astype(np.float32) * 0.1
    got = []
    separation.Separator(model, "cpu").separate_many([mono], [got.append])
    assert np.concatenate(got, axis=1).shape == (4, 44100 * 3, 2)


def test_memory_does_not_grow_with_song_length(model):
    """Peak numpy memory of separating 80 s vs 20 s (output discarded): bounded by segments, not length."""
    sep = separation.Separator(model, "cpu", segments_per_batch=2)
    peaks = {}
    for sec in (20, 80):
        mix = np.zeros((44100 * sec, 2), dtype=np.float32)
        tracemalloc.start()
        sep.separate_many([mix], [lambda block: None])
        peaks[sec] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[80] < 1.3 * peaks[20], peaks


def test_stem_files_and_stats(tmp_path):
    sr = 44100
    t = np.arange(sr * 2) / sr
    loud = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # RMS 0.354 -> -9.03 dBFS
    block = np.zeros((2, sr * 4, 2), dtype=np.float32)
    block[0, : sr * 2] = loud[:, None]  # "vocals": active the first half only
    block[1] = 0.5 * np.sin(2 * np.pi * 110 * np.arange(sr * 4) / sr)[:, None]
    files = separation.StemFiles(tmp_path, ["vocals", "drums"], sr, "flac", "PCM_24", active_threshold_dbfs=-45)
    files(block[:, : sr * 3])
    files(block[:, sr * 3:])
    stats = files.close()
    assert stats["vocals"]["active_ratio"] == pytest.approx(0.5, abs=0.03)
    assert stats["drums"]["active_ratio"] == pytest.approx(1.0)
    assert stats["drums"]["rms_dbfs"] == pytest.approx(-9.03, abs=0.05)
    assert stats["vocals"]["rms_dbfs"] == pytest.approx(-9.03 - 3.01, abs=0.05)  # half the energy
    # the RMS envelope (0.1 s frames, running on across the 3 s / 1 s block edge) the analyse task labels sections with
    envelope = np.array(stats["vocals"]["frame_rms"])
    assert len(envelope) == 40 and np.allclose(envelope[:20], 0.354, atol=0.002) and np.all(envelope[20:] == 0)
    assert np.allclose(separation.rms_envelope(block[0], sr), envelope)
    data, rate = sf.read(stats["vocals"]["path"])
    assert rate == sr and data.shape == (sr * 4, 2)
    assert np.abs(data[: sr * 2, 0] - loud).max() < 1e-4  # 24-bit FLAC round trip
    assert separation.vocal_flags(stats, 0.15) == {"has_vocals": True, "instrumental": False}
    assert separation.vocal_flags({"vocals": {"active_ratio": 0.05}}, 0.15)["has_vocals"] is False


def test_missing_weights_name_the_remedies(tmp_path):
    with pytest.raises(separation.WeightsUnavailableError, match="model_repo.*--no-stems"):
        separation.load_model("htdemucs", str(tmp_path))  # empty local repo
    with pytest.raises(separation.WeightsUnavailableError, match="not a folder"):
        separation.load_model("htdemucs", str(tmp_path / "missing"))


def test_stem_files_keep_block_order_and_raise_failed_writes(tmp_path):
    """Stems are encoded on background threads: blocks must land in order and a failed write must surface."""
    sr = 8000
    rng = np.random.default_rng(3)
    blocks = [rng.uniform(-0.5, 0.5, size=(2, int(n), 2)).astype(np.float32) for n in rng.integers(1, 900, size=60)]
    files = separation.StemFiles(tmp_path / "ok", ["vocals", "drums"], sr, "wav", "FLOAT", max_pending=2)
    for b in blocks:
        files(b)
    stats = files.close()
    for i, name in enumerate(["vocals", "drums"]):
        data, _ = sf.read(stats[name]["path"], dtype="float32")
        assert np.array_equal(data, np.concatenate([b[i] for b in blocks]))
    bad = separation.StemFiles(tmp_path / "bad", ["vocals"], sr, "wav", "FLOAT")
    bad(np.zeros((1, 100, 2), dtype=np.float32))
    bad(np.zeros((1, 100, 2, 2), dtype=np.float32))  # not (n, 2): libsndfile refuses it on the writer thread
    with pytest.raises(ValueError, match="too many dimensions"):
        bad.close()
    assert all(f.closed for f in bad.files.values())


def test_close_all_closes_every_sink_before_raising(tmp_path):
    good = separation.StemFiles(tmp_path / "a", ["vocals"], 8000, "wav", "FLOAT")
    bad = separation.StemFiles(tmp_path / "b", ["vocals"], 8000, "wav", "FLOAT")
    last = separation.StemFiles(tmp_path / "c", ["vocals"], 8000, "wav", "FLOAT")
    bad(np.zeros((1, 100, 2, 2), dtype=np.float32))  # fails on its writer thread
    with pytest.raises(ValueError):
        separation.close_all([good, bad, last])
    assert all(f.closed for sink in (good, bad, last) for f in sink.files.values())
    for sink in (good, bad, last):  # encoder threads shut down: they take no more work
        for thread in sink.threads.values():
            with pytest.raises(RuntimeError):
                thread.submit(print)
