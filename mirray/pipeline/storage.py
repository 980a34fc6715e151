"""Local folders and S3 buckets behind one pyarrow.fs interface.

S3 credentials come from the AWS default chain inside pyarrow (env vars, ~/.aws, instance role);
only the endpoint and region travel in the (picklable, secret-free) ``StorageSpec``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs


@dataclass(frozen=True)
class StorageSpec:
    s3_endpoint_url: str | None = None
    s3_region: str | None = None

    @classmethod
    def from_config(cls, cfg: dict) -> "StorageSpec":
        storage = cfg["storage"]
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or storage.get("s3_endpoint_url")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or storage.get("s3_region")
        return cls(endpoint, region)


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def resolve(uri: str, spec: StorageSpec) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local path or ``s3://bucket/key``."""
    if is_s3(uri):
        kwargs = {"region": spec.s3_region} if spec.s3_region else {}
        if spec.s3_endpoint_url:
            parsed = urlparse(spec.s3_endpoint_url)
            kwargs.update(endpoint_override=parsed.netloc or parsed.path, scheme=parsed.scheme or "https")
        return pafs.S3FileSystem(**kwargs), uri[len("s3://"):].rstrip("/")
    return pafs.LocalFileSystem(), str(Path(uri).expanduser().resolve())


def to_uri(fs: pafs.FileSystem, path: str) -> str:
    return f"s3://{path}" if isinstance(fs, pafs.S3FileSystem) else path


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *parts])


def read_bytes(uri: str, spec: StorageSpec) -> bytes:
    fs, path = resolve(uri, spec)
    with fs.open_input_stream(path) as f:
        return f.read()


def write_bytes(uri: str, data: bytes, spec: StorageSpec) -> None:
    fs, path = resolve(uri, spec)
    if not is_s3(uri):
        fs.create_dir(str(Path(path).parent), recursive=True)
    with fs.open_output_stream(path) as f:
        f.write(data)


def list_files(root_uri: str, extensions: list[str], spec: StorageSpec) -> list[tuple[str, int]]:
    """Every file under ``root_uri`` (recursive) whose name ends in one of ``extensions``, case-insensitive.

    Returns sorted (uri, size_bytes). A missing root is an error, not an empty listing.
    """
    fs, path = resolve(root_uri, spec)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"input not found: {root_uri}")
    if info.type == pafs.FileType.File:
        entries = [info]
    else:
        entries = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    suffixes = tuple(e.lower() for e in extensions)
    found = [
        (to_uri(fs, e.path), int(e.size or 0))
        for e in entries
        if e.type == pafs.FileType.File and e.base_name.lower().endswith(suffixes)
    ]
    return sorted(found)


def put_file(local_path: str, uri: str, spec: StorageSpec) -> None:
    """Move a finished local file to ``uri`` (a rename when local, a streamed upload to S3)."""
    fs, path = resolve(uri, spec)
    if not is_s3(uri):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(local_path, path)
        return
    with open(local_path, "rb") as src, fs.open_output_stream(path) as dst:
        shutil.copyfileobj(src, dst, length=8 << 20)
