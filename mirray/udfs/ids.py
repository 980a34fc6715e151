"""Song identity: a song is its bytes."""

import hashlib


def song_id_for_bytes(data: bytes) -> str:
    """SHA-256 of the file's bytes, hex. The same bytes under any path or bucket give the same id."""
    return hashlib.sha256(data).hexdigest()
