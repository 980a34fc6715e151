"""End to end on local Ray: real MP3s in a folder → Parquet read back with plain pandas."""

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from mirray.config import load_config
from mirray.corpus.synth import render_clip
from mirray.pipeline import graph, schema
from test_config_and_song import SONG_STAGES


def _add_bad_inputs(folder, good_mp3):
    data = good_mp3.read_bytes()
    (folder / "bad").mkdir()
    (folder / "bad" / "truncated.mp3").write_bytes(data[: len(data) // 2])
    (folder / "bad" / "random.mp3").write_bytes(np.random.default_rng(1).bytes(30000))
    (folder / "bad" / "empty.mp3").write_bytes(b"")
    samples, _ = render_clip(100.0, "G", "major", 6.0)
    sf.write(folder / "bad" / "actually_wav.mp3", samples, 44100, format="WAV")
    (folder / "notes.txt").write_text("not audio, not listed")


def test_folder_end_to_end_incremental_and_duplicates(local_ray, songs_dir, make_mp3, tmp_path):
    folder, truths = songs_dir
    first = folder / (truths[0]["path"].rsplit("/", 1)[-1])
    _add_bad_inputs(folder, first)
    (folder / "copies").mkdir()
    shutil.copy(first, folder / "copies" / "SAME BYTES.MP3")  # same song, other path, upper-case extension
    out = tmp_path / "out"
    cfg = load_config(None, ["output.rows_per_file=3", "separation.enabled=false"])

    summary = graph.run(str(folder), str(out), cfg)
    assert (summary.listed, summary.processed, summary.failed, summary.duplicates) == (11, 7, 3, 1)

    feats = pd.read_parquet(out / "features")
    assert len(feats) == 7 and feats["song_id"].is_unique
    assert (feats["schema_version"] == schema.SCHEMA_VERSION).all()
    assert (feats["stems_status"] == "disabled").all() and feats["stem_vocals_uri"].isna().all()
    by_title = feats.set_index("title")
    for t in truths:
        row = by_title.loc[t["title"]]
        assert row["tempo_bpm"] == pytest.approx(t["tempo_bpm"], rel=0.02), t["title"]
        assert row["key"] == t["key"], t["title"]
        assert row["artist"] == t["artist"] and row["genre"] == t["genre"] and row["year"] == 2026
        assert abs(row["decoded_duration_sec"] - 10.0) < 0.05
        assert len(row["beat_times_sec"]) >= 10
        theory = row["music_theory"]  # the seed's nested block, read back with plain pandas
        assert theory["harmonic_analysis"]["roman_numerals"][0] in ("I", "i")  # the demo songs open on the tonic
        assert theory["rhythmic_analysis"]["time_signature"] == "4/4"
        assert theory["genre_analysis"]["tag_genre"] == {"Hip-Hop": "hip-hop"}.get(t["genre"], t["genre"].lower())
    # duplicate bytes: one row, processed under the first path in sort order, the other path recorded
    dup_row = feats[feats["uri"].str.endswith(first.name)].iloc[0]
    assert list(dup_row["duplicate_uris"]) == [str(folder / "copies" / "SAME BYTES.MP3")]
    # a WAV named .mp3 decodes by content: a documented success, labelled with its real container
    wav = feats[feats["uri"].str.endswith("actually_wav.mp3")].iloc[0]
    assert wav["container_format"] == "wav" and wav["key"] == "G major"

    errors = pd.read_parquet(out / "errors").set_index("uri")
    assert len(errors) == 3
    assert errors.loc[str(folder / "bad" / "truncated.mp3"), "error_type"] == "TruncatedAudioError"
    assert errors.loc[str(folder / "bad" / "random.mp3"), "stage"] == "decode"
    assert errors.loc[str(folder / "bad" / "empty.mp3"), "stage"] == "read"
    assert not errors["skipped"].any() and errors["message"].str.len().gt(5).all()

    metrics = pd.read_parquet(out / "metrics")
    ok_ids = set(feats["song_id"])
    per_song = metrics[metrics["song_id"].isin(ok_ids)].groupby("song_id")["stage"].apply(set)
    assert len(per_song) == 7 and all(s == {"read", *SONG_STAGES} for s in per_song)
    assert (metrics["cpu_sec"] >= 0).all() and metrics["node_id"].notna().all()

    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["processed"] == 7 and run["versions"]["ray"] and run["config"]["output"]["rows_per_file"] == 3
    # shards: plain pyarrow reads each file; 7 rows at 3 rows per file -> at least 2 files
    shards = sorted((out / "features").glob("part-*.parquet"))
    assert len(shards) >= 2 and sum(pq.read_metadata(p).num_rows for p in shards) == 7

    # re-run: nothing to do
    again = graph.run(str(folder), str(out), cfg)
    assert (again.processed, again.failed, again.skipped_done) == (0, 0, 11)
    assert len(pd.read_parquet(out / "features")) == 7

    # two new songs and one more copy of a known song: exactly the two are processed
    make_mp3(folder / "new" / "n1.mp3", tempo_bpm=100.0, tonic="Eb", mode="major", seed=11)
    make_mp3(folder / "new" / "n2.mp3", tempo_bpm=140.0, tonic="B", mode="minor", seed=12)
    shutil.copy(first, folder / "new" / "third copy.mp3")
    third = graph.run(str(folder), str(out), cfg)
    assert (third.processed, third.failed, third.skipped_done) == (2, 0, 12)
    feats = pd.read_parquet(out / "features")
    assert len(feats) == 9 and feats["song_id"].is_unique
    aliases = pd.read_parquet(out / "aliases")
    assert list(aliases["uri"]) == [str(folder / "new" / "third copy.mp3")]
    assert aliases["song_id"].iloc[0] == dup_row["song_id"]
    assert graph.run(str(folder), str(out), cfg).processed == 0  # the alias counts as done too

    # a genre model trained on the run's own tagged songs (6 tags, one song each), loadable by the pipeline
    from mirray.pipeline import cli
    from mirray.udfs import genre
    from mirray.udfs.genre_model import LinearGenreModel

    model_path = tmp_path / "genre.json"
    assert cli.main(["genre-fit", str(out), "--model", str(model_path), "--min-songs", "1", "--c", "100"]) == 0
    model = genre.load_model(f"linear:{model_path}")
    tagged = [r for r in pq.read_table(out / "features").to_pylist() if r["genre"]]  # lists, as pyarrow gives them
    assert sorted(model.genres) == sorted(genre.normalise_tag(r["genre"]) for r in tagged)
    for row in tagged:
        mt = row["music_theory"]
        probs = model.predict(genre.features_for_genre(row, mt["harmonic_analysis"], mt["rhythmic_analysis"]))
        assert sum(probs.values()) == pytest.approx(1.0) and max(probs, key=probs.get) == genre.normalise_tag(row["genre"])
    labels = tmp_path / "labels.csv"
    labels.write_text("song_id,genre\n" + "".join(f"{sid},{'Rock' if tempo > 110 else 'jazz'}\n"
                                                   for sid, tempo in zip(feats["song_id"], feats["tempo_bpm"])))
    assert cli.main(["genre-fit", str(out), "--model", str(model_path), "--labels", str(labels), "--min-songs", "1"]) == 0
    assert sorted(LinearGenreModel(str(model_path)).genres) == ["jazz", "rock"]
    assert cli.main(["genre-fit", str(tmp_path / "nothing"), "--model", str(model_path)]) == 2  # clear error, no traceback


def test_missing_input_is_a_clear_error(local_ray, tmp_path):
    with pytest.raises(FileNotFoundError, match="input not found"):
        graph.run(str(tmp_path / "nope"), str(tmp_path / "out"), load_config(None, ["separation.enabled=false"]))
