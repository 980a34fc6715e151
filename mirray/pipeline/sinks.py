"""Writers for OUT/: Parquet shards (driver-side for small tables), run.json, and what a past run left."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from ray.data.datasource import FilenameProvider

from mirray.pipeline import storage


class PartFilenames(FilenameProvider):
    """part-<run_id>-<write_uuid>-<task>.parquet: sortable by run; Ray requires the write uuid in the name."""

    def __init__(self, run_id: str):
        super().__init__()
        self.run_id = run_id

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"part-{self.run_id}-{write_uuid}-{task_index:05d}.parquet"

    def get_filename_for_block(self, block, write_uuid, task_index, block_index=0) -> str:  # Ray < 2.5x
        return self.get_filename_for_task(write_uuid, task_index)


def write_table(out_uri: str, subdir: str, run_id: str, table: pa.Table, spec: storage.StorageSpec) -> str | None:
    """Write one Parquet file OUT/<subdir>/part-<run_id>.parquet from the driver; nothing when empty."""
    if table.num_rows == 0:
        return None
    uri = storage.join(out_uri, subdir, f"part-{run_id}.parquet")
    fs, path = storage.resolve(uri, spec)
    if not storage.is_s3(uri):
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    pq.write_table(table, path, filesystem=fs)
    return uri


def write_json(uri: str, obj: dict, spec: storage.StorageSpec) -> None:
    storage.write_bytes(uri, json.dumps(obj, indent=2, default=str).encode(), spec)


def read_columns(out_uri: str, subdir: str, columns: list[str], spec: storage.StorageSpec) -> pa.Table | None:
    """Columns of every Parquet file under OUT/<subdir>/, or None when there is none yet."""
    fs, path = storage.resolve(storage.join(out_uri, subdir), spec)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return None
    dataset = pads.dataset(path, filesystem=fs, format="parquet")
    if not dataset.files:
        return None
    return dataset.to_table(columns=columns)


@dataclass
class DoneIndex:
    """What earlier runs finished: (uri, size) pairs to skip, and song ids that already have features."""

    keys: set = field(default_factory=set)
    song_ids: set = field(default_factory=set)

    @classmethod
    def load(cls, out_uri: str, spec: storage.StorageSpec, include_errors: bool = True) -> "DoneIndex":
        done = cls()
        feats = read_columns(out_uri, "features", ["song_id", "uri", "duplicate_uris", "file_size_bytes"], spec)
        if feats is not None:
            for row in feats.to_pylist():
                done.song_ids.add(row["song_id"])
                for uri in [row["uri"], *(row["duplicate_uris"] or [])]:
                    done.keys.add((uri, row["file_size_bytes"]))
        aliases = read_columns(out_uri, "aliases", ["uri", "file_size_bytes"], spec)
        if aliases is not None:
            done.keys.update(zip(aliases["uri"].to_pylist(), aliases["file_size_bytes"].to_pylist()))
        if include_errors:
            errors = read_columns(out_uri, "errors", ["uri", "file_size_bytes"], spec)
            if errors is not None:
                done.keys.update(zip(errors["uri"].to_pylist(), errors["file_size_bytes"].to_pylist()))
        return done
