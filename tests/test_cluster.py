"""A real local Ray head: `ray job submit -- mirray run …`; and the cluster launcher config."""

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import ray
import yaml
from ray.job_submission import JobStatus, JobSubmissionClient

from servers import RayHead

ROOT = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).parent / "ray")


def test_ray_cluster_yaml_matches_rays_own_schema():
    config = yaml.safe_load((ROOT / "ray_cluster.yaml").read_text())
    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    jsonschema.validate(config, schema)
    types = config["available_node_types"]
    assert {"head", "cpu_worker", "gpu_worker"} <= set(types) and config["head_node_type"] == "head"
    assert types["gpu_worker"]["max_workers"] >= 1 and types["cpu_worker"]["min_workers"] == 0
    assert any("mirray" in cmd for cmd in config["setup_commands"])


@pytest.fixture(scope="module")
def head():
    h = RayHead(num_cpus=2, num_gpus=1)
    yield h
    h.stop()


def test_ray_job_submit_runs_mirray(head, corpus_dir, tmp_path):
    folder, truths = corpus_dir
    out = tmp_path / "out"
    command = [RAY, "job", "submit", "--address", head.dashboard_url, "--no-wait", "--working-dir", str(ROOT),
               "--runtime-env-json", json.dumps({"excludes": [".venv", "demo", ".git"]}),
               "--", "mirray", "run", str(folder), "--out", str(out), "--no-stems"]
    # the dashboard answers before its job agent has registered; Ray itself says "please try again later"
    deadline = time.time() + 90
    while True:
        submit = subprocess.run(command, env=head.env, capture_output=True, text=True, timeout=120)
        if submit.returncode == 0 or "No available agent" not in submit.stderr or time.time() > deadline:
            break
        time.sleep(2)
    assert submit.returncode == 0, submit.stderr[-3000:]
    job_id = next(line.split("'")[1] for line in submit.stdout.splitlines() if "submitted successfully" in line)
    client = JobSubmissionClient(head.dashboard_url)
    deadline = time.time() + 300
    while not client.get_job_status(job_id).is_terminal():
        assert time.time() < deadline, "job did not finish in 300 s"
        time.sleep(1)
    logs = client.get_job_logs(job_id)
    assert client.get_job_status(job_id) == JobStatus.SUCCEEDED, logs[-4000:]
    assert "mirray: 6 processed, 0 skipped (already done), 0 failed" in logs
    feats = pd.read_parquet(out / "features")
    assert sorted(feats["key"]) == sorted(t["key"] for t in truths)
    run = json.loads((out / "run.json").read_text())
    assert run["ray_address"]  # the job ran against the submitted-to cluster, not a private local Ray
