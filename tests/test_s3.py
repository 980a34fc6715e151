"""S3 in, S3 out, against a real SeaweedFS server; credentials only through the AWS chain."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from servers import SeaweedS3

ACCESS, SECRET = "mirraytestkey", "mirray-test-secret-9f2c"


@pytest.fixture(scope="module")
def s3():
    server = SeaweedS3(ACCESS, SECRET)
    yield server
    server.stop()


def _mirray(args, env):
    return subprocess.run([str(Path(sys.executable).parent / "mirray"), *args], env=env, capture_output=True, text=True, timeout=300)


def test_bucket_to_bucket(s3, corpus_dir, stems_overrides):
    folder, truths = corpus_dir
    client = s3.client()
    client.create_bucket(Bucket="songs")
    client.create_bucket(Bucket="features")
    for t in truths:
        client.upload_file(t["path"], "songs", f"incoming/2026/{Path(t['path']).name}")
    client.put_object(Bucket="songs", Key="incoming/broken.mp3", Body=b"\x00garbage" * 100)

    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_ENDPOINT_URL": s3.endpoint_url, "AWS_REGION": "us-east-1", "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    stems_args = [a for o in stems_overrides for a in ("--set", o)]
    proc = _mirray(["run", "s3://songs/incoming", "--out", "s3://features/mirray/v1", *stems_args], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mirray: 6 processed, 0 skipped (already done), 1 failed" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr

    fs = pafs.S3FileSystem(access_key=ACCESS, secret_key=SECRET, endpoint_override=s3.endpoint_url.split("//")[1],
                           scheme="http", region="us-east-1")
    feats = pq.read_table("features/mirray/v1/features", filesystem=fs).to_pandas()
    assert len(feats) == 6 and feats["uri"].str.startswith("s3://songs/incoming/2026/").all()
    by_title = feats.set_index("title")
    for t in truths:
        assert by_title.loc[t["title"], "key"] == t["key"]
        assert by_title.loc[t["title"], "tempo_bpm"] == pytest.approx(t["tempo_bpm"], rel=0.02)
    for row in feats.itertuples():  # stems landed in the bucket, under the song id
        assert row.stem_drums_uri == f"s3://features/mirray/v1/stems/{row.song_id}/drums.flac"
        with fs.open_input_file(row.stem_drums_uri[len("s3://"):]) as f:
            info = sf.info(io.BytesIO(f.read()))
        assert info.samplerate == 44100 and info.channels == 2 and abs(info.duration - 10.0) < 0.01
    errors = pq.read_table("features/mirray/v1/errors", filesystem=fs).to_pandas()
    assert list(errors["uri"]) == ["s3://songs/incoming/broken.mp3"] and errors["stage"].iloc[0] == "decode"
    with fs.open_input_stream("features/mirray/v1/run.json") as f:
        run_json = f.read().decode()
    assert SECRET not in run_json and '"processed": 6' in run_json

    again = _mirray(["run", "s3://songs/incoming", "--out", "s3://features/mirray/v1", *stems_args], env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "mirray: 0 processed, 7 skipped (already done), 0 failed" in again.stdout


def test_wrong_secret_fails_clearly(s3):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": "wrong-secret-value",
           "AWS_ENDPOINT_URL": s3.endpoint_url, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    s3.client().create_bucket(Bucket="private")
    proc = _mirray(["run", "s3://private/x", "--out", "s3://private/out", "--no-stems"], env)
    assert proc.returncode == 2
    assert "mirray: error:" in proc.stderr and "ACCESS_DENIED" in proc.stderr and "Traceback" not in proc.stderr
    assert "wrong-secret-value" not in proc.stdout + proc.stderr
