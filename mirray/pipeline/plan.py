"""Turn hashed listings into work: one entry per new song id, duplicates folded in, the rest recorded."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    songs: list = field(default_factory=list)    # {song_id, uri, duplicate_uris, file_size_bytes}
    aliases: list = field(default_factory=list)  # new paths of songs finished in earlier runs
    errors: list = field(default_factory=list)   # files that could not be read
    duplicate_count: int = 0


def plan_songs(hashed: list[dict], done_song_ids: set, run_id: str) -> Plan:
    """Group rows {uri, file_size_bytes, song_id, read_error} by song id.

    The first uri in sort order is processed; the others of this run go in its ``duplicate_uris``.
    A song id that already has features is not processed again: each of its paths becomes an alias row.
    """
    plan = Plan()
    by_id: dict[str, list[dict]] = {}
    for row in sorted(hashed, key=lambda r: r["uri"]):
        if row.get("read_error"):
            plan.errors.append({"song_id": None, "uri": row["uri"], "file_size_bytes": row["file_size_bytes"],
                                "stage": "read", "error_type": row["read_error"].split(":", 1)[0],
                                "message": row["read_error"], "skipped": False})
        elif row["song_id"] in done_song_ids:
            plan.aliases.append({"song_id": row["song_id"], "uri": row["uri"], "file_size_bytes": row["file_size_bytes"], "run_id": run_id})
        else:
            by_id.setdefault(row["song_id"], []).append(row)
    for song_id, rows in by_id.items():
        first, rest = rows[0], rows[1:]
        plan.duplicate_count += len(rest)
        plan.songs.append({"song_id": song_id, "uri": first["uri"], "file_size_bytes": first["file_size_bytes"],
                           "duplicate_uris": [r["uri"] for r in rest]})
    plan.songs.sort(key=lambda s: s["uri"])
    return plan
