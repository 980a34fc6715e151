"""Config loading and the Ray-free per-song runner."""

import pytest

from mirray.config import load_config
from mirray.pipeline import schema
from mirray.pipeline.song import process_song

SONG_STAGES = ["metadata", "decode", "resample", "mir_beats", "mir_tonal", "mir_meter", "mir_sections", "mir_key", "theory", "loudness", "quality"]


def test_defaults_and_overrides(tmp_path):
    cfg = load_config()
    assert cfg["audio"]["mir_sample_rate_hz"] == 22050
    user = tmp_path / "c.yaml"
    user.write_text("output:\n  rows_per_file: 7\n")
    cfg = load_config(user, ["audio.max_duration_sec=60", "input.extensions=['.mp3','.wav']"])
    assert cfg["output"]["rows_per_file"] == 7
    assert cfg["audio"]["max_duration_sec"] == 60
    assert cfg["input"]["extensions"] == [".mp3", ".wav"]


@pytest.mark.parametrize("bad", [["audio.max_duration=5"], ["nosuch.key=1"], ["audio=3"], ["noequals"]])
def test_unknown_or_malformed_keys_are_errors(bad):
    with pytest.raises(ValueError):
        load_config(None, bad)


def _item(path):
    return {"song_id": "x" * 64, "uri": str(path), "file_size_bytes": path.stat().st_size, "duplicate_uris": []}


def test_process_song_success_has_all_result_columns(make_mp3, tmp_path):
    path = make_mp3(tmp_path / "a.mp3", tempo_bpm=110.0, tonic="D", mode="major", tags={"title": "A", "year": 2001})
    row = process_song(_item(path), path.read_bytes(), load_config(), "run1")
    assert row["error"] is None
    assert row["tempo_bpm"] == pytest.approx(110.0, rel=0.02) and row["key"] == "D major"
    assert row["title"] == "A" and row["year"] == 2001
    assert [m["stage"] for m in row["metrics"]] == SONG_STAGES
    assert all(m["wall_sec"] >= 0 and m["cpu_sec"] >= 0 for m in row["metrics"])
    table = schema.table([row], schema.RESULT)  # the row fits the schema exactly
    assert table.num_rows == 1 and table.schema == schema.RESULT


def test_too_long_input_is_skipped_with_reason_before_decoding(make_mp3, tmp_path):
    path = make_mp3(tmp_path / "long.mp3", duration_sec=6.0)
    cfg = load_config(None, ["audio.max_duration_sec=5"])
    row = process_song(_item(path), path.read_bytes(), cfg, "run1")
    assert row["error"]["skipped"] is True
    assert row["error"]["stage"] == "metadata" and row["error"]["error_type"] == "InputTooLongError"
    assert [m["stage"] for m in row["metrics"]] == ["metadata"]  # never decoded


def test_empty_bytes_give_read_error(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    row = process_song(_item(path), b"", load_config(), "run1")
    assert row["error"]["stage"] == "read" and "empty" in row["error"]["message"]


def test_separation_actor_cpus_auto():
    """auto reserves the ~4 host cores a GPU actor keeps busy, never the GPU node's last core, and 1 on CPU."""
    from mirray.pipeline.graph import separation_cpus

    assert separation_cpus("auto", 0.0, [(16, 1)]) == 1.0  # CPU actors
    assert separation_cpus("auto", 1.0, [(16, 1)]) == 4.0
    assert separation_cpus("auto", 1.0, [(4, 1)]) == 3.0  # one core left for decode and analyse
    assert separation_cpus("auto", 1.0, [(2, 1)]) == 1.0  # CI's Ray head: the actor still fits beside a CPU task
    assert separation_cpus("auto", 0.5, [(96, 8), (6, 1)]) == 2.0  # the smallest GPU node sets it
    assert separation_cpus("auto", 1.0, []) == 1.0  # GPU nodes not up yet (autoscaler): the old default
    assert separation_cpus(2, 1.0, [(16, 1)]) == 2.0  # a number is taken as given


def test_separation_actors_auto():
    """auto: two actors per card only where every GPU node has the cores for both and the CPU stages; the pool
    grows to every GPU of the cluster (a fixed 4 left GPUs 5-8 idle)."""
    from mirray.pipeline.graph import separation_gpus, separation_max_actors

    assert separation_gpus("auto", []) == 0.0  # no GPU node: Demucs on CPU
    assert separation_gpus("auto", [(2, 1)]) == 1.0  # CI's Ray head
    assert separation_gpus("auto", [(8, 1)]) == 1.0
    assert separation_gpus("auto", [(16, 1)]) == 0.5  # the measured 16-core H200 node
    assert separation_gpus("auto", [(128, 8), (8, 1)]) == 1.0  # the smallest GPU node decides
    assert separation_gpus(0.34, [(16, 1)]) == 0.34
    assert separation_max_actors("auto", 0.0, []) == 4  # CPU
    assert separation_max_actors("auto", 1.0, [(96, 8), (8, 1)]) == 9
    assert separation_max_actors("auto", 0.5, [(16, 1), (32, 2)]) == 6
    assert separation_max_actors("auto", 0.34, [(16, 1)]) == 2  # 1 / 0.34 rounds down: a third actor would not fit
    assert separation_max_actors(3, 1.0, [(16, 1)]) == 3


def test_song_key_is_read_again_from_the_final_chords(make_mp3, tmp_path, monkeypatch):
    from mirray.udfs import chords

    path = make_mp3(tmp_path / "k.mp3", tempo_bpm=110.0, tonic="D", mode="major")
    real = chords.estimate_chords

    def final_on_b_minor(*args, **kwargs):  # the first pass (majmin) as it is; the final chords all B minor, its relative
        found = real(*args, **kwargs)
        return found if args[4] == "majmin" else [dict(c, label="B:min") for c in found]

    monkeypatch.setattr(chords, "estimate_chords", final_on_b_minor)
    off = process_song(_item(path), path.read_bytes(), load_config(overrides=["mir.key_from_final_chords=false"]), "run1")
    on = process_song(_item(path), path.read_bytes(), load_config(), "run1")
    assert off["key"] == "D major"  # from the first-pass chords
    assert on["key"] == "B minor"  # the same chroma, the phrases now starting on B minor's tonic


def test_chorale_style_harmony_gets_its_own_key_windows(make_mp3, tmp_path, monkeypatch):
    from mirray.udfs import chords, key_regions

    path = make_mp3(tmp_path / "w.mp3", tempo_bpm=110.0, tonic="D", mode="major")
    real, seen = key_regions.key_segments, []

    def record(*args, **kwargs):
        seen.append((kwargs["window_sec"], kwargs["hop_sec"], kwargs["min_segment_sec"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(key_regions, "key_segments", record)
    cfg = load_config(overrides=["mir.key_window_sec_fast=6", "mir.key_min_segment_sec_fast=4"])
    process_song(_item(path), path.read_bytes(), cfg, "run1")  # a pop clip: chords a bar long
    monkeypatch.setattr(chords, "fast_harmony", lambda *args, **kwargs: True)  # as a chorale reads
    process_song(_item(path), path.read_bytes(), cfg, "run1")
    assert seen == [(16.0, 4.0, 16.0), (6.0, 1.5, 4.0)]
