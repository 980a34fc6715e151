"""Real servers for tests, started on free ports and stopped by PID."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count: int, low: int = 20000, high: int = 29000) -> list[int]:
    """``count`` ports that are free, each with port+10000 free too (SeaweedFS gRPC convention).

    Kept above 20000: Ray worker processes use 10002-19999.
    """
    chosen: list[int] = []
    while len(chosen) < count:
        p = random.randint(low, high)
        if p not in chosen and _is_free(p) and _is_free(p + 10000):
            chosen.append(p)
    return chosen


def _stop(proc: subprocess.Popen, timeout_sec: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_sec)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(url: str, server, timeout_sec: float, failure: str) -> None:
    """Poll ``url`` until it answers; stop ``server`` and raise if its process dies or time runs out."""
    deadline = time.time() + timeout_sec
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            if server.proc.poll() is not None or time.time() > deadline:
                server.stop()
                raise RuntimeError(failure)
            time.sleep(0.3)


class SeaweedS3:
    """``weed mini`` (master, volume, filer, S3) with the given admin credentials."""

    def __init__(self, access_key: str, secret_key: str):
        self.access_key, self.secret_key = access_key, secret_key
        self.dir = Path(tempfile.mkdtemp(prefix="mirray-weed-"))
        s3, master, volume, filer, admin = free_ports(5)
        self.endpoint_url = f"http://127.0.0.1:{s3}"
        (self.dir / "data").mkdir()
        (self.dir / "logs").mkdir()
        args = [
            str(BIN / "weed"), f"-logdir={self.dir / 'logs'}", "mini", f"-dir={self.dir / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={s3}", f"-s3.port.grpc={s3 + 10000}",
            f"-master.port={master}", f"-master.port.grpc={master + 10000}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume + 10000}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer + 10000}",
            f"-admin.port={admin}", f"-admin.port.grpc={admin + 10000}",
            f"-s3.localSocket={self.dir / 's3.sock'}", f"-filer.localSocket={self.dir / 'filer.sock'}",
            "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
        self.log = open(self.dir / "weed.out", "wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_for(f"{self.endpoint_url}/healthz", self, 60, f"SeaweedFS did not start; see {self.dir}/weed.out")

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1")

    def stop(self) -> None:
        _stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RayHead:
    """A real local Ray head (own temp dir, dashboard on, logical GPUs declared) stopped by PID."""

    def __init__(self, num_cpus: int = 2, num_gpus: int = 0):
        self.dir = Path(tempfile.mkdtemp(prefix="mirray-ray-"))
        gcs, dash, client, obj, node, metrics, agent_grpc, agent_http, rt_env = free_ports(9, 30000, 39000)
        self.dashboard_url = f"http://127.0.0.1:{dash}"
        self.env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
        self.env.pop("RAY_ADDRESS", None)
        self.env["PATH"] = f"{BIN}:{self.env.get('PATH', '')}"  # job drivers find `mirray` as on a set-up node
        cmd = [
            str(BIN / "ray"), "start", "--head", "--block", f"--port={gcs}", f"--num-cpus={num_cpus}", f"--num-gpus={num_gpus}",
            "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}",
            f"--ray-client-server-port={client}", f"--object-manager-port={obj}", f"--node-manager-port={node}",
            f"--metrics-export-port={metrics}", f"--dashboard-agent-grpc-port={agent_grpc}",
            f"--dashboard-agent-listen-port={agent_http}", f"--runtime-env-agent-port={rt_env}",
            "--min-worker-port=10002", "--max-worker-port=19999", f"--temp-dir={self.dir}", "--disable-usage-stats",
        ]
        self.log = open(self.dir / "head.out", "wb")
        # own process group: stopping it takes the raylet, GCS and dashboard down with it, nothing else
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(f"{self.dashboard_url}/api/version", self, 90, f"Ray head did not start; see {self.dir}/head.out")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
