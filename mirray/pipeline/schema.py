"""The output schema: the single source of truth for every column mirray writes.

Bump SCHEMA_VERSION when a column changes meaning or type; adding a nullable column is a minor bump.
"""

import pyarrow as pa

SCHEMA_VERSION = 4  # 2: chord_source, band accents and high_band_onset_ratio in rhythmic_analysis;
#                    3: chord labels may name an inverted bass ("G:maj/3"), time_signature may be "6/8";
#                    4: pulse_clarity; tempo_confidence also drops when there is no audible pulse
STEM_NAMES = ("vocals", "drums", "bass", "other")

# One row per song in OUT/features/.
FEATURES = pa.schema([
    # identity
    ("song_id", pa.string()),                 # sha256 of the file bytes (hex)
    ("uri", pa.string()),                     # the path processed (first in sort order among duplicates)
    ("duplicate_uris", pa.list_(pa.string())),  # other paths with identical bytes seen in the same run
    ("file_size_bytes", pa.int64()),
    ("schema_version", pa.int16()),
    ("run_id", pa.string()),
    ("processed_at", pa.timestamp("ms", tz="UTC")),
    # tags and stream info (mutagen); null when absent or unreadable
    ("title", pa.string()),
    ("artist", pa.string()),
    ("album", pa.string()),
    ("album_artist", pa.string()),
    ("year", pa.int32()),
    ("genre", pa.string()),
    ("track_number", pa.int32()),
    ("track_total", pa.int32()),
    ("duration_sec", pa.float64()),           # from the header (LAME/Xing frame count, or estimate)
    ("bitrate_kbps", pa.float64()),
    ("sample_rate_hz", pa.int32()),
    ("channels", pa.int16()),
    ("bitrate_mode", pa.string()),            # CBR | VBR | ABR | null
    ("encoder", pa.string()),
    ("container_format", pa.string()),        # mp3, wav, … as detected from the bytes, not the name
    ("has_cover_art", pa.bool_()),
    ("musicbrainz_recording_id", pa.string()),
    ("musicbrainz_album_id", pa.string()),
    ("musicbrainz_artist_id", pa.string()),
    ("musicbrainz_release_group_id", pa.string()),
    ("metadata_warning", pa.string()),        # why tags could not be read, if so
    # decoded audio
    ("decoded_duration_sec", pa.float64()),
    ("decoded_sample_rate_hz", pa.int32()),
    ("decoded_channels", pa.int16()),
    # MIR
    ("tempo_bpm", pa.float64()),
    ("tempo_confidence", pa.float32()),       # 0..1: steadiness of the beats × how clear the pulse is (mir.tempo_confidence)
    ("pulse_clarity", pa.float32()),          # onset autocorrelation at the beat period, ≤ 1; near 0: no beat in the onsets (tempo a guess)
    ("beat_times_sec", pa.list_(pa.float32())),
    ("onset_times_sec", pa.list_(pa.float32())),
    ("key", pa.string()),                     # "A major", "C# minor"
    ("key_tonic", pa.string()),
    ("key_mode", pa.string()),                # major | minor
    ("key_confidence", pa.float32()),         # probability of `key` among the 24 keys, 0..1 (calibrated)
    ("tuning_cents", pa.float32()),           # offset from A440 equal temperament
    ("key_segments", pa.list_(pa.struct([     # where the key holds; several when it modulates
        ("start_sec", pa.float32()), ("end_sec", pa.float32()), ("key", pa.string())]))),
    ("chord_source", pa.string()),            # mix | stems (bass + other, with mir.chord_source: stems)
    ("chords", pa.list_(pa.struct([           # beat-aligned, Harte labels ("A:min7", "G:maj/3", "N"), merged
        ("start_sec", pa.float32()), ("end_sec", pa.float32()), ("label", pa.string())]))),
    ("downbeat_times_sec", pa.list_(pa.float32())),
    ("time_signature", pa.string()),          # "4/4" | "3/4" | "6/8"
    ("beats_per_bar", pa.int8()),
    ("meter_confidence", pa.float32()),       # lead of the chosen meter's downbeat score over the other's
    ("sections", pa.list_(pa.struct([         # cover the song; label: intro | verse | chorus | bridge | outro | instrumental (with a vocals stem)
        ("start_sec", pa.float32()), ("end_sec", pa.float32()), ("label", pa.string())]))),
    # music theory, in the seed's shape (udfs/theory.py, rhythm.py, genre.py)
    ("music_theory", pa.struct([
        ("harmonic_analysis", pa.struct([
            ("roman_numerals", pa.list_(pa.string())),          # per chord segment, in its local key (music21 figures)
            ("functional_harmony", pa.list_(pa.string())),      # tonic, tonic_substitute, subdominant, dominant, …
            ("chord_times_sec", pa.list_(pa.float32())),        # start of each of those segments
            ("chord_keys", pa.list_(pa.string())),              # the local key each numeral is read in ("A minor")
            ("common_patterns", pa.list_(pa.struct([("pattern", pa.string()), ("count", pa.int32()),
                                                    ("times_sec", pa.list_(pa.float32()))]))),
            ("cadences", pa.list_(pa.struct([("type", pa.string()), ("time_sec", pa.float32()), ("strength", pa.float32())]))),
            ("progression_complexity", pa.float32()),           # 0..1
            ("harmonic_rhythm_changes_per_bar", pa.float32()),
            ("secondary_dominants", pa.list_(pa.struct([("figure", pa.string()), ("time_sec", pa.float32())]))),
            ("borrowed_chords", pa.list_(pa.struct([("figure", pa.string()), ("time_sec", pa.float32())]))),
            ("modulations", pa.list_(pa.struct([("time_sec", pa.float32()), ("from_key", pa.string()), ("to_key", pa.string())]))),
        ])),
        ("rhythmic_analysis", pa.struct([
            ("syncopation_index", pa.float32()),                # Longuet-Higgins & Lee, 0..1
            ("time_signature", pa.string()),
            ("complexity_score", pa.float32()),                 # 0..1
            ("metric_hierarchy", pa.struct([("strong_beats", pa.list_(pa.int8())), ("weak_beats", pa.list_(pa.int8())),
                                            ("accent_by_position", pa.list_(pa.float32())),
                                            ("low_accent_by_position", pa.list_(pa.float32())),    # < 200 Hz: kick, bass
                                            ("high_accent_by_position", pa.list_(pa.float32()))])),  # > 4 kHz: snare, hats
            ("swing_ratio", pa.float32()),                      # long:short eighths; 1 straight, 2 triplet swing; null: nothing between beats
            ("high_band_onset_ratio", pa.float32()),            # > 4 kHz onset strength / all bands: low without drums
        ])),
        ("genre_analysis", pa.struct([
            ("primary_genre", pa.string()),
            ("confidence", pa.float32()),                       # rule baseline: not calibrated yet
            ("predicted_genres", pa.list_(pa.struct([("genre", pa.string()), ("confidence", pa.float32())]))),
            ("tag_genre", pa.string()),                         # ID3 genre normalised to the taxonomy
            ("source", pa.string()),                            # rules | model (genre_model), with "tag+" when a tag counted
        ])),
    ])),
    # loudness (EBU R128 via pyloudnorm) and levels
    ("loudness_lufs", pa.float32()),          # integrated
    ("loudness_range_lu", pa.float32()),      # EBU 3342 LRA
    ("sample_peak_dbfs", pa.float32()),
    ("true_peak_dbtp", pa.float32()),         # 4x oversampled
    ("crest_factor_db", pa.float32()),        # sample peak over RMS
    # quality flags (settings in config "quality")
    ("low_bitrate", pa.bool_()),              # bitrate_kbps < quality.min_bitrate_kbps
    ("duration_out_of_range", pa.bool_()),    # outside [quality.min_duration_sec, max_duration_sec]
    ("clipping_ratio", pa.float32()),         # share of sample frames at full scale
    ("silence_ratio", pa.float32()),          # share of 100 ms frames below quality.silence_threshold_dbfs
    ("bandwidth_hz", pa.float32()),           # upper edge of the content (an encoder low-pass shows here)
    ("likely_transcoded", pa.bool_()),        # claims a high bitrate but has a low-bitrate encoder's bandwidth
    # stems (Demucs): files under OUT/stems/<song_id>/<stem>.<fmt>, 44.1 kHz stereo
    ("stems_status", pa.string()),            # ok | disabled | skipped: <why>
    ("stem_model", pa.string()),
    ("stem_device", pa.string()),             # cpu | cuda:N
    *[(f"stem_{name}_{field}", typ) for name in STEM_NAMES for field, typ in (
        ("uri", pa.string()),
        ("rms_dbfs", pa.float32()),           # RMS level of the whole stem, dB re full scale
        ("active_ratio", pa.float32()),       # share of 100 ms frames above separation.active_threshold_dbfs
    )],
    ("has_vocals", pa.bool_()),               # vocals stem active_ratio >= separation.vocals_min_active_ratio
    ("instrumental", pa.bool_()),
])

# One row per failed or skipped input in OUT/errors/.
ERRORS = pa.schema([
    ("song_id", pa.string()),                 # null when the bytes could not be read
    ("uri", pa.string()),
    ("file_size_bytes", pa.int64()),
    ("stage", pa.string()),                   # read | hash | metadata | decode | mir | …
    ("error_type", pa.string()),              # exception class, e.g. AudioError, TruncatedAudioError
    ("message", pa.string()),
    ("skipped", pa.bool_()),                  # true: left out on purpose (e.g. too long), not broken
    ("run_id", pa.string()),
    ("schema_version", pa.int16()),
])

# One row per song and stage in OUT/metrics/: raw material for cost dashboards.
METRICS = pa.schema([
    ("run_id", pa.string()),
    ("song_id", pa.string()),
    ("stage", pa.string()),
    ("wall_sec", pa.float64()),
    ("cpu_sec", pa.float64()),                # process CPU time, all threads of the worker
    ("audio_duration_sec", pa.float64()),
    ("node_id", pa.string()),
])

# Later sightings of already-processed bytes under a new path, in OUT/aliases/.
ALIASES = pa.schema([
    ("song_id", pa.string()),
    ("uri", pa.string()),
    ("file_size_bytes", pa.int64()),
    ("run_id", pa.string()),
])

# What the per-song stage returns: a feature row, or an error, plus the metrics of each stage.
RESULT = pa.schema(
    list(FEATURES)
    + [pa.field("error", pa.struct([f for f in ERRORS if f.name not in ("song_id", "uri", "file_size_bytes", "run_id", "schema_version")]))]
    + [pa.field("metrics", pa.list_(pa.struct([f for f in METRICS if f.name not in ("run_id", "song_id")])))]
)


# Between stages the decoded audio rides along as float32 interleaved bytes (frames x decoded_channels).
# The Demucs actor also hands the analyse task the vocals stem's RMS per separation.ENVELOPE_FRAME_SEC
# (instrumental sections), so the stem file need not be read back.
WORK = RESULT.append(pa.field("audio_pcm", pa.large_binary())).append(pa.field("vocal_rms_envelope", pa.list_(pa.float32())))


def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts; missing keys -> null) as a table with exactly ``schema``."""
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
