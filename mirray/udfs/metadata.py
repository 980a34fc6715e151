"""Tags and stream info with mutagen, from the file's bytes.

Garbage or missing tags give None fields, never an exception: a song is never lost to its tags.
"""

from __future__ import annotations

import io
import re

import mutagen

FIELDS = (
    "title", "artist", "album", "album_artist", "year", "genre", "track_number", "track_total",
    "duration_sec", "bitrate_kbps", "sample_rate_hz", "channels", "bitrate_mode", "encoder",
    "container_format", "has_cover_art", "musicbrainz_recording_id", "musicbrainz_album_id",
    "musicbrainz_artist_id", "musicbrainz_release_group_id",
)

# EasyID3 key -> our field (EasyID3 maps TXXX/UFID frames for MusicBrainz ids).
_EASY_KEYS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "albumartist": "album_artist",
    "genre": "genre",
    "musicbrainz_trackid": "musicbrainz_recording_id",
    "musicbrainz_albumid": "musicbrainz_album_id",
    "musicbrainz_artistid": "musicbrainz_artist_id",
    "musicbrainz_releasegroupid": "musicbrainz_release_group_id",
}
# ID3v1 genre numbers some encoders still write as "(17)" or "17".
_ID3V1_GENRE = re.compile(r"^\((\d+)\)(.*)$|^(\d+)$")


def _clean(text) -> str | None:
    if text is None:
        return None
    text = str(text).replace("\x00", "").strip()
    return text or None


def _first_int(text) -> int | None:
    m = re.search(r"\d+", str(text or ""))
    return int(m.group()) if m else None


def _genre(text: str | None) -> str | None:
    if not text:
        return None
    m = _ID3V1_GENRE.match(text)
    if m:
        from mutagen._constants import GENRES

        rest = (m.group(2) or "").strip()
        if rest:
            return rest
        num = int(m.group(1) or m.group(3))
        return GENRES[num] if num < len(GENRES) else None
    return text


def _get(tags, key):
    try:
        values = tags.get(key)
    except Exception:  # easy wrappers raise on keys a container lacks
        return None
    if isinstance(values, list):
        values = values[0] if values else None
    return _clean(values)


def _tags(easy_tags, raw_tags) -> dict:
    """Fields from the 'easy' tag view (same keys across ID3, Vorbis comments, MP4) plus raw ID3."""
    out: dict = {}
    if easy_tags is not None:
        for key, field in _EASY_KEYS.items():
            out[field] = _get(easy_tags, key)
        for key in ("date", "originaldate", "year"):
            year = _first_int(_get(easy_tags, key))
            if year:
                out["year"] = year
                break
        num, _, total = (_get(easy_tags, "tracknumber") or "").partition("/")
        out["track_number"] = _first_int(num)
        out["track_total"] = _first_int(total)
        out["genre"] = _genre(out.get("genre"))
    if raw_tags is not None and hasattr(raw_tags, "getall"):  # ID3
        out["has_cover_art"] = bool(raw_tags.getall("APIC"))
        frames = raw_tags.getall("TSSE") or raw_tags.getall("TENC")
        if frames and frames[0].text:
            out["encoder_tag"] = _clean(frames[0].text[0])
    elif raw_tags is not None and hasattr(raw_tags, "pictures"):  # FLAC
        out["has_cover_art"] = bool(raw_tags.pictures)
    return {k: v for k, v in out.items() if v is not None}


def _stream_info(audio) -> dict:
    info = getattr(audio, "info", None)
    if info is None:
        return {}
    out = {
        "duration_sec": float(info.length) if getattr(info, "length", None) else None,
        "sample_rate_hz": int(info.sample_rate) if getattr(info, "sample_rate", None) else None,
        "channels": int(info.channels) if getattr(info, "channels", None) else None,
    }
    bitrate = getattr(info, "bitrate", None)
    out["bitrate_kbps"] = round(bitrate / 1000.0, 3) if bitrate else None
    mode = getattr(info, "bitrate_mode", None)
    if mode is not None:
        name = str(mode).rsplit(".", 1)[-1]  # BitrateMode.CBR -> CBR
        out["bitrate_mode"] = name if name in ("CBR", "VBR", "ABR") else None
    enc = _clean(getattr(info, "encoder_info", None))
    if enc:
        out["encoder"] = enc
    return out


def extract_metadata(data: bytes) -> dict:
    """Tags and stream info of an audio file given as bytes.

    Returns every key in FIELDS (None when unknown) plus ``metadata_warning``: None, or why tags
    could not be read. Units: duration_sec seconds, bitrate_kbps kbit/s, sample_rate_hz Hz.
    """
    out = dict.fromkeys(FIELDS)
    out["has_cover_art"] = False
    out["metadata_warning"] = None
    try:
        audio = mutagen.File(io.BytesIO(data))
    except Exception as exc:  # mutagen raises many types on garbage
        out["metadata_warning"] = f"{type(exc).__name__}: {exc}"[:300]
        return out
    if audio is None:
        out["metadata_warning"] = "unrecognised container"
        return out
    out["container_format"] = type(audio).__name__.lower().replace("wave", "wav")
    try:
        out.update(_stream_info(audio))
    except Exception as exc:
        out["metadata_warning"] = f"stream info: {type(exc).__name__}: {exc}"[:300]
    try:
        easy = mutagen.File(io.BytesIO(data), easy=True)
        tags = _tags(getattr(easy, "tags", None), getattr(audio, "tags", None))
        encoder_tag = tags.pop("encoder_tag", None)
        out.update(tags)
        out["encoder"] = out["encoder"] or encoder_tag
    except Exception as exc:
        out["metadata_warning"] = f"tags: {type(exc).__name__}: {exc}"[:300]
    return out
