"""One song through the CPU stages, with per-stage timings and error capture. Ray-free, so testable alone.

A song is a row dict (schema.RESULT keys). Each stage adds fields and a metrics entry per step; a
failing step sets ``row["error"]`` and later stages leave the row alone.
"""

from __future__ import annotations

import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mirray.pipeline.schema import SCHEMA_VERSION
from mirray.udfs import (audio, beat_refine, chords, genre, key_regions, loudness, metadata, meter, mir, quality, rhythm,
                         sections, theory)


class StageFailed(Exception):
    """Raised inside ``step`` blocks after the row's error is set; stops the stage."""


def error_record(stage: str, exc: BaseException, skipped: bool = False) -> dict:
    message = str(exc) or repr(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    if frames and not isinstance(exc, (audio.AudioError, OSError)):  # unexpected: say where it broke
        message += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return {"stage": stage, "error_type": type(exc).__name__, "message": message[:2000], "skipped": skipped}


@contextmanager
def step(row: dict, name: str):
    """Time one step into row["metrics"]; turn an exception into row["error"] and StageFailed."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield
    except Exception as exc:
        row["error"] = error_record(name, exc, skipped=isinstance(exc, audio.InputTooLongError))
        raise StageFailed from exc
    finally:
        row["metrics"].append({"stage": name, "wall_sec": time.perf_counter() - wall0,
                               "cpu_sec": time.process_time() - cpu0, "node_id": None})


def new_row(item: dict, run_id: str) -> dict:
    """``item`` carries song_id, uri, duplicate_uris, file_size_bytes."""
    return {**item, "schema_version": SCHEMA_VERSION, "run_id": run_id,
            "processed_at": datetime.now(timezone.utc), "error": None, "metrics": []}


def decode_stage(row: dict, data: bytes | None, cfg: dict) -> tuple[np.ndarray, int] | None:
    """read check → metadata → decode (+ length checks). Returns (samples (frames, ch) float32, rate) or None on error."""
    audio_cfg = cfg["audio"]
    if not data:  # the read itself is timed by whoever fetched the bytes
        exc = (row.pop("read_error", None) or OSError("no bytes")) if data is None else audio.AudioError("empty file (0 bytes)")
        row["error"] = error_record("read", exc)
        return None
    try:
        with step(row, "metadata"):
            row.update(metadata.extract_metadata(data))
            header_sec = row.get("duration_sec")
            if header_sec and header_sec > audio_cfg["max_duration_sec"]:
                raise audio.InputTooLongError(
                    f"{header_sec:.0f} s is longer than audio.max_duration_sec={audio_cfg['max_duration_sec']}")
        with step(row, "decode"):
            samples, sr_hz = audio.decode(data)
            decoded_sec = samples.shape[0] / sr_hz
            row.update(decoded_duration_sec=decoded_sec, decoded_sample_rate_hz=sr_hz, decoded_channels=samples.shape[1])
            if decoded_sec > audio_cfg["max_duration_sec"]:
                raise audio.InputTooLongError(f"{decoded_sec:.0f} s decoded is longer than audio.max_duration_sec")
            if row.get("container_format") == "mp3":
                audio.check_length(decoded_sec, header_sec, audio_cfg["truncation_tolerance_sec"])
        return samples, sr_hz
    except StageFailed:
        return None


def mir_stage(row: dict, samples: np.ndarray, sr_hz: int, cfg: dict, harmonic: np.ndarray | None = None,
              vocal_envelope: np.ndarray | None = None) -> None:
    """resample → beats/tempo/onsets → chroma, first chords → downbeats/meter → sections → key, chords, key
    segments → theory (harmony, rhythm, genre) → loudness → quality flags.

    ``harmonic``: the song's bass + other stems (frames, channels) at ``sr_hz``, when chords should be read
    from them (no melody, no drums): beats, meter, sections and key stay on the mix. ``vocal_envelope``: the
    vocals stem's RMS per ``separation.ENVELOPE_FRAME_SEC`` (``separation.rms_envelope``), when sections
    without singing should be labelled "instrumental"."""
    import librosa

    mir_cfg, mir_sr, hop = cfg["mir"], cfg["audio"]["mir_sample_rate_hz"], cfg["mir"]["hop_length"]
    try:
        with step(row, "resample"):
            mono = audio.resample(audio.to_mono(samples), sr_hz, mir_sr)
        with step(row, "mir_beats"):
            onset_env, low_env, high_env, mel_db = _onset_envelopes(mono, mir_sr, hop)
            row.update(mir.tempo_and_beats(mono, mir_sr, hop, mir_cfg["tempo_min_bpm"], mir_cfg["tempo_max_bpm"], onset_env, low_env,
                                             high_env if mir_cfg["metric_level_check"] else None, mir_cfg["tempo_peak_min_share"],
                                             mir_cfg["tempo_no_pulse_comb"]))
            beat_frames = librosa.time_to_frames(row["beat_times_sec"], sr=mir_sr, hop_length=hop)
        with step(row, "mir_tonal"):
            chroma, row["tuning_cents"], cqt = mir.chroma_features(mono, mir_sr, hop, with_cqt=True)
            frame_times = librosa.frames_to_time(np.arange(chroma.shape[1]), sr=mir_sr, hop_length=hop)
            duration_sec = len(mono) / mir_sr
            # meter reads harmonic change in the treble register: a walking or root-fifth bass changes pitch inside
            # the bar and marked the half bar (BENCHMARKS.md)
            meter_treble = chords.treble_chroma(mir.flatten_tilt(cqt) if mir_cfg["chord_flatten_tilt"] else cqt)
            chord_audio, chord_cqt, chord_tuning = mono, cqt, row["tuning_cents"]
            if harmonic is not None:  # same frames as the mix: same length and hop
                chord_audio = audio.resample(audio.to_mono(harmonic), sr_hz, mir_sr)[:len(mono)]
                _, chord_tuning, chord_cqt = mir.chroma_features(chord_audio, mir_sr, hop, with_cqt=True)
                chord_cqt = chord_cqt[:, :chroma.shape[1]]
            chord_cqt = mir.variable_q_bass(chord_audio, mir_sr, hop, chord_cqt, chord_tuning, mir_cfg["chord_vqt_gamma_hz"])
            chord_chroma = chroma if chord_cqt is cqt else mir.chroma_from_cqt(chord_cqt)
            first_chroma = chord_chroma  # first-pass chords set the key; flattened, relative-key ties fell both ways (BENCHMARKS.md)
            if mir_cfg["chord_flatten_tilt"] and harmonic is None:  # drums' sloped spectrum folds into a bias towards C; stems have none
                chord_cqt = mir.flatten_tilt(chord_cqt)
                chord_chroma = mir.chroma_from_cqt(chord_cqt)
            # bass (inversions) and treble (sevenths) registers, folded from the same transform
            bass = chords.bass_chroma(chord_cqt)
            treble = chords.treble_chroma(chord_cqt) if mir_cfg["chord_vocabulary"] == "sevenths" else None
            sources = {}  # registers some sevenths are read from (chords.add_sevenths)
            if treble is not None and mir_cfg["chord_dom7_centre_bins"]:
                sources["maj", "b7"] = chords.treble_centre_chroma(chord_cqt)
            low = chords.low_treble_chroma(chord_cqt) if treble is not None else None
            if low is not None and mir_cfg["chord_maj7_below_melody"]:
                sources["maj", "maj7"] = low
            if low is not None and mir_cfg["chord_min7_below_melody"]:
                sources["min", "b7"] = low
            min7_bar = mir_cfg["chord_min7_below_melody_b7_min" if ("min", "b7") in sources else "chord_min7_b7_min"]
            row["chord_source"] = "mix" if harmonic is None else "stems"
            first = chords.estimate_chords(first_chroma, frame_times, beat_frames, duration_sec, "majmin", mir_cfg["chord_self_transition"])
            if mir_cfg["harmonic_rhythm_level"] and row["beat_times_sec"]:  # a chorale tracked at its eighths: back to the quarter
                level = beat_refine.harmonic_rhythm_level(np.asarray(row["beat_times_sec"]), first, onset_env, mir_sr / hop,
                                                          mir_cfg["tempo_min_bpm"])
                if len(level) < len(row["beat_times_sec"]):
                    row.update(mir.beat_fields(level, onset_env, mir_sr / hop, mir_cfg["tempo_min_bpm"], mir_cfg["tempo_max_bpm"]))
                    beat_frames = librosa.time_to_frames(row["beat_times_sec"], sr=mir_sr, hop_length=hop)
        with step(row, "mir_meter"):
            if len(beat_frames) >= 2:
                spans = _per_beat(meter_treble, beat_frames)
                # the strongest frame within ±1 of each beat: a kick's peak often sits a frame off the beat frame (BENCHMARKS.md)
                low_at_beats = beat_refine.peaks_at(low_env, np.asarray(row["beat_times_sec"]), mir_sr / hop,
                                                    radius=mir_cfg["meter_low_radius_frames"])
                two_beat = meter.beat_evidence(spans, low_at_beats, 2)
                per_beat = meter.subdivision(row["beat_times_sec"], onset_env, mir_sr / hop)
                row.update(meter.downbeats(row["beat_times_sec"], meter.beat_evidence(spans, low_at_beats, 1) + two_beat,
                                           meters=(2,) if per_beat == 3 else (3, 4), phase_evidence=two_beat,
                                           beat_subdivision=per_beat))
            else:
                row.update(meter.downbeats([], np.zeros(0)))  # too few beats: None fields
        use_vocals = vocal_envelope is not None and len(vocal_envelope) and row.get("has_vocals") is not False  # else leakage only

        def find_sections(key_shift: np.ndarray | None = None, harmony: np.ndarray | None = None) -> list[dict]:
            return _sections(row, mono, mir_sr, hop, chroma if harmony is None else harmony, mel_db, beat_frames,
                             vocal_envelope if use_vocals else None, mir_cfg["instrumental_ratio"], mir_cfg["section_refine_bars"],
                             mir_cfg["section_phrase_bars"], mir_cfg["section_phrase_bonus"],
                             _phrase_vote_weighted(mir_cfg["section_phrase_vote"]), mir_cfg["section_crash_weight"],
                             mir_cfg["section_min_bars"], mir_cfg["section_merge_short"], mir_cfg["section_novelty_bars"],
                             mir_cfg["section_smooth_bars"], key_shift)

        with step(row, "mir_sections"):
            row["sections"] = find_sections()
        with step(row, "mir_key"):
            # first-pass chords and phrase starts settle the key; then chords again with that key as a prior
            starts = sections.phrase_starts_sec(row["downbeat_times_sec"] or [], [s["start_sec"] for s in row["sections"]],
                                                mir_cfg["phrase_bars"])
            # the final cadence always from the first pass (see the README); the notes (NNLS) only once the chord stage has them
            def song_key(chord_list: list[dict], note_chroma: np.ndarray | None = None) -> dict:
                return mir.key_from_chroma(chroma.mean(axis=1), mir_cfg["key_profile"], chord_list, mir_cfg["key_chord_weight"],
                                           starts, mir_cfg["key_phrase_start_weight"], mir_cfg["key_end_cadence_weight"],
                                           mir_cfg["key_first_chord_weight"], cadence_chords=first,
                                           phrase_end_weight=mir_cfg["key_phrase_end_weight"], note_chroma=note_chroma,
                                           note_weight=mir_cfg["key_notes_weight"])

            row.update(song_key(first))
            bar_prior = {"beat_times_sec": row["beat_times_sec"], "downbeat_times_sec": row["downbeat_times_sec"],
                         "beats_per_bar": row["beats_per_bar"], "p_downbeat": mir_cfg["chord_change_downbeat"],
                         "p_half_bar": mir_cfg["chord_change_half_bar"], "p_other": mir_cfg["chord_change_other"]}
            # chorale-like: chords a beat long or less, decoded on half-beats too; not an arpeggio's one note a beat
            fast = chords.fast_harmony(first, row["beat_times_sec"], mir_cfg["chord_half_beats"],
                                       chords.notes_per_beat(first_chroma, beat_frames), tempo_bpm=row["tempo_bpm"],
                                       max_tempo_bpm=mir_cfg["chord_half_beats_max_tempo_bpm"])
            chord_frames = chords.decoding_frames(beat_frames, fast)
            # the downbeat's bass speaks for the bar where chords last about a bar; in a chorale each beat's bass is its own chord's
            bar_bass = 0.0 if fast else mir_cfg["chord_downbeat_bass"]
            # the notes sounding in each span (NNLS): a quarter of each chord match, and the final key's profile
            bounds = chords.span_bounds(chord_frames, chord_chroma.shape[1])
            span_notes = (chords.nnls_span_chroma(chord_cqt, bounds)
                          if mir_cfg["chord_notes_weight"] or mir_cfg["key_notes_weight"] else None)

            def decode(key_segments: list[dict] | None = None) -> list[dict]:  # the final chords, with the key (segments) as prior
                found = chords.estimate_chords(chord_chroma, frame_times, chord_frames, duration_sec, mir_cfg["chord_vocabulary"],
                                               mir_cfg["chord_self_transition"], key=row["key"], key_bonus=mir_cfg["chord_key_bonus"],
                                               meter=bar_prior, seventh_chroma=None if treble is None else (treble, frame_times),
                                               seventh_thresholds={"b7_min": min7_bar, "dominant_b7_min": mir_cfg["chord_dom7_b7_min"],
                                                                   "maj7_min": mir_cfg["chord_maj7_min"],
                                                                   "window_beats": mir_cfg["chord_seventh_window_beats"],
                                                                   "outside_key_margin": {"b7": mir_cfg["chord_b7_outside_key_margin"],
                                                                                          "maj7": mir_cfg["chord_maj7_outside_key_margin"]}},
                                               compression=mir_cfg["chord_compression"], upper_structures=mir_cfg["chord_upper_structures"],
                                               bass=bass, downbeat_bass_weight=bar_bass, reroot=mir_cfg["chord_reroot_over_bass"],
                                               inner_change_share=mir_cfg["chord_inner_change_share"],
                                               inner_change_min_chord_beats=mir_cfg["chord_inner_change_min_chord_beats"],
                                               seventh_sources=sources, span_notes=span_notes,
                                               note_weight=mir_cfg["chord_notes_weight"], bass_quantile=mir_cfg["chord_bass_quantile"],
                                               key_segments=key_segments)
                if mir_cfg["chord_inversions"]:
                    chords.add_inversions(found, bass, frame_times, row["beat_times_sec"],
                                          cqt=chord_cqt if mir_cfg["chord_inversion_lowest_note"] else None,
                                          bass_quantile=mir_cfg["chord_bass_quantile"])
                return found

            row["chords"] = decode()
            # the same cues on the final chords (sevenths, bar prior): BENCHMARKS.md; not on a chorale's half-beat chords,
            # whose passing chords read worse than the first pass's
            if mir_cfg["key_from_final_chords"] and not fast:
                row.update(song_key(row["chords"], None if span_notes is None else chords.song_note_chroma(span_notes, bounds)))
            # chorale-like harmony (a chord a beat or faster) modulates phrase by phrase: shorter key windows there
            window = "_fast" if fast else ""
            key_window_sec, key_min_segment_sec = mir_cfg[f"key_window_sec{window}"], mir_cfg[f"key_min_segment_sec{window}"]

            def segments() -> list[dict]:
                return key_regions.key_segments(chroma, frame_times, row["chords"], duration_sec, mir_cfg["key_profile"],
                                                mir_cfg["key_chord_weight"], phrase_starts_sec=starts,
                                                phrase_start_weight=mir_cfg["key_phrase_start_weight"],
                                                region_diatonic=mir_cfg["key_region_diatonic"],
                                                window_sec=key_window_sec, hop_sec=key_window_sec / 4,
                                                min_segment_sec=key_min_segment_sec,
                                                end_cadence_weight=mir_cfg["key_end_cadence_weight"],
                                                home_key=row["key"] if mir_cfg["key_fold_edges"] else None,
                                                first_chord_weight=mir_cfg["key_first_chord_weight"],
                                                phrase_end_weight=mir_cfg["key_phrase_end_weight"],
                                                min_gain=mir_cfg["key_modulation_min_gain"],
                                                applied_dominants=mir_cfg["key_region_applied_dominants"] and not fast,
                                                transposed_min_share=0.0 if fast else mir_cfg["key_transposed_min_share"],
                                                tail_min_sec=mir_cfg["key_tail_min_sec"], tail_min_margin=mir_cfg["key_tail_min_margin"],
                                                change_search_sec=0.0 if fast else mir_cfg["key_change_search_sec"])

            row["key_segments"] = segments()
            # not chorale-style: that music modulates phrase by phrase to close keys, not by moving its harmony whole (Bach audio
            # local key 0.667 -> 0.644 with both)
            keys = {seg["key"] for seg in row["key_segments"]}
            if mir_cfg["key_change_second_pass"] and not fast and len(keys) > 1 and (row["key"] not in keys or
                                                                                     row["key_segments"][-1]["key"] != row["key"]):
                # a key change that holds to the end: each region's chords are read again with its own key as prior (a B-major
                # last chorus decoded against A major reads B as Bm, ii of A); where no region is in the song's key, that key
                # is the longest region's (the chroma of E and F♯ major together reads B major)
                if row["key"] not in keys:
                    main = key_regions.main_key_segment(row["key_segments"])
                    main_key = key_regions.region_key(chroma, frame_times, row["chords"], main, mir_cfg["key_profile"],
                                                      mir_cfg["key_chord_weight"], starts, mir_cfg["key_phrase_start_weight"],
                                                      mir_cfg["key_phrase_end_weight"])
                    if main_key["key"] == main["key"]:  # else the region's own naming cues disagree: leave the song's key
                        row.update(main_key)
                row["chords"] = decode(row["key_segments"])
                row["key_segments"] = segments()
                if mir_cfg["section_key_invariant"]:  # a chorus moved up a step repeats the chorus: label it in the home key
                    notes = None  # the notes found, each span over its loudest: no partials folded in, whatever the voicing
                    if mir_cfg["section_relabel_notes"] and span_notes is not None:
                        notes = np.repeat(span_notes / np.maximum(span_notes.max(axis=0), 1e-9), np.diff(bounds), axis=1)
                    row["sections"] = sections.relabelled(row["sections"], find_sections(
                        key_regions.key_offsets(row["key_segments"], row["key"], row["beat_times_sec"]), notes))
        with step(row, "theory"):
            row["music_theory"] = _theory(row, (onset_env, low_env, high_env), beat_frames, mir_sr / hop, cfg["theory"])
        with step(row, "loudness"):
            row.update(loudness.loudness(samples, sr_hz))
        with step(row, "quality"):
            row.update(quality.quality_flags(samples, sr_hz, row.get("bitrate_kbps"),
                                             row.get("decoded_duration_sec") or len(mono) / mir_sr, cfg["quality"]))
    except StageFailed:
        pass


def _onset_envelopes(mono: np.ndarray, sr_hz: int, hop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """librosa onset strength over all bands, below 200 Hz (kick, bass) and above 4 kHz (snare, hats),
    from one power spectrogram (as librosa's defaults would compute it three times); and the full-band
    log-power mel spectrogram (128 bands) they start from, which is also what librosa's MFCC starts from."""
    import librosa

    power = np.abs(librosa.stft(mono, n_fft=2048, hop_length=hop)) ** 2

    def mel_db(**mel) -> np.ndarray:
        return librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr_hz, **mel))

    def env(spectrum_db: np.ndarray) -> np.ndarray:
        return librosa.onset.onset_strength(S=spectrum_db, sr=sr_hz, hop_length=hop)

    full = mel_db()
    return env(full), env(mel_db(fmax=200, n_mels=24)), env(mel_db(fmin=4000, n_mels=24)), full


def _envelope_per_beat(envelope: np.ndarray, beat_times_sec: list[float]) -> np.ndarray:
    """Mean of a ``separation.ENVELOPE_FRAME_SEC`` envelope from each beat to the next (the last: to its end)."""
    from mirray.udfs.separation import ENVELOPE_FRAME_SEC

    starts = np.clip((np.asarray(beat_times_sec) / ENVELOPE_FRAME_SEC).astype(int), 0, len(envelope) - 1)
    ends = np.maximum(np.append(starts[1:], len(envelope)), starts + 1)
    return np.array([envelope[a:b].mean() for a, b in zip(starts, ends)])


def _per_beat(features: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Median of ``features`` (dims, frames) from each beat to the next, shape (dims, n_beats)."""
    frames = np.asarray(beat_frames, dtype=int)
    bounds = np.unique(frames[frames <= features.shape[1]])  # the spans librosa.util.sync(pad=False) takes
    spans = mir.span_medians(features, bounds)
    spans = np.asfortranarray(spans) if np.isfortran(features) else spans  # as librosa lays it out: float32 sums follow the layout
    return np.pad(spans, ((0, 0), (0, max(0, len(beat_frames) - spans.shape[1]))), mode="edge")[:, :len(beat_frames)]


def _phrase_vote_weighted(vote: str) -> bool:
    if vote not in ("weighted", "count"):
        raise ValueError(f"mir.section_phrase_vote must be 'weighted' or 'count', not {vote!r}")
    return vote == "weighted"


CYMBAL_BAND_HZ = 6000.0  # crash cymbals ring above this; kick, bass, voice and most chord instruments stay below


def _sections(row: dict, mono: np.ndarray, sr_hz: int, hop: int, chroma: np.ndarray, mel_db: np.ndarray,
              beat_frames: np.ndarray, vocal_envelope: np.ndarray | None, instrumental_ratio: float,
              refine_bars: int, phrase_bars: int, phrase_bonus: float, weighted_vote: bool = True,
              crash_weight: float = 0.0, min_bars: int = 4, merge_short: bool = False, novelty_bars: int = 3,
              smooth_bars: int = 2, key_shift: np.ndarray | None = None) -> list[dict]:
    """``mel_db``: the log-power mel spectrogram of ``_onset_envelopes`` (MFCCs from it, no second STFT; its bands
    above 6 kHz give the crash cue); ``vocal_envelope``: see ``mir_stage``; ``key_shift``: each beat's key, in semitones
    above the song's (``key_regions.key_offsets``), whose chroma is moved down by as much (sections compared in one key)."""
    import librosa

    if min(min_bars, novelty_bars, smooth_bars) < 1:
        raise ValueError("mir.section_min_bars, mir.section_novelty_bars and mir.section_smooth_bars must be at least 1, "
                         f"not {min_bars}, {novelty_bars} and {smooth_bars}")
    duration_sec = len(mono) / sr_hz
    if len(beat_frames) < 2:
        return [{"start_sec": 0.0, "end_sec": duration_sec, "label": "verse"}] if duration_sec > 0 else []

    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=14)[1:]  # timbre without overall level
    rms = librosa.feature.rms(y=mono, hop_length=hop)
    beat_chroma = _per_beat(chroma, beat_frames)
    if key_shift is not None:  # pitch class p of a beat whose key lies s above the song's: read from p + s
        beat_chroma = np.take_along_axis(beat_chroma, (np.arange(12)[:, None] + np.asarray(key_shift)[None, :]) % 12, axis=0)
    per_beat = (row["beat_times_sec"], beat_chroma, _per_beat(mfcc, beat_frames), _per_beat(rms, beat_frames)[0])
    downbeats = row.get("downbeat_times_sec") or []
    found = sections.estimate_sections(*per_beat, downbeats, duration_sec, row.get("beats_per_bar"), min_bars,
                                       beat_vocal_rms=None if vocal_envelope is None else _envelope_per_beat(vocal_envelope, row["beat_times_sec"]),
                                       instrumental_ratio=instrumental_ratio, novelty_bars=novelty_bars, smooth_bars=smooth_bars)
    accents = None
    if crash_weight:
        cymbal_bands = librosa.mel_frequencies(n_mels=mel_db.shape[0] + 2, fmax=sr_hz / 2)[1:-1] >= CYMBAL_BAND_HZ
        accents = sections.downbeat_accents(librosa.db_to_power(mel_db[cymbal_bands]).sum(axis=0), sr_hz / hop, downbeats,
                                            row.get("beats_per_bar"))
    refined = sections.refine_sections(found, per_beat[0], downbeats, *per_beat[1:], row.get("beats_per_bar"), refine_bars,
                                       phrase_bars, phrase_bonus, weighted_vote, accents, crash_weight)
    if not merge_short:
        return refined
    # moved boundaries may end up closer than min_bars: half a bar's grace for tempo drift
    bar_sec = (row.get("beats_per_bar") or 4) * float(np.median(np.diff(row["beat_times_sec"])))
    return sections.merge_short_sections(refined, (min_bars - 0.5) * bar_sec)


def _theory(row: dict, envelopes: tuple, beat_frames: np.ndarray, frame_rate_hz: float, theory_cfg: dict) -> dict:
    """``envelopes``: onset strength over all bands, below 200 Hz and above 4 kHz (same hop, ``frame_rate_hz``)."""
    onset_env, low_env, high_env = envelopes
    at_beats = lambda env: env[np.minimum(beat_frames, len(env) - 1)] if len(beat_frames) else np.zeros(0)  # noqa: E731
    harmonic = theory.harmonic_analysis(row.get("chords") or [], row.get("key_tonic"), row.get("key_mode"),
                                        row.get("downbeat_times_sec") or [], row.get("sections") or [],
                                        row.get("tempo_bpm"), row.get("beats_per_bar"), row.get("key_segments") or [])
    high_ratio = float(high_env.mean() / onset_env.mean()) if onset_env.mean() > 0 else None
    rhythmic = rhythm.rhythmic_analysis(row.get("onset_times_sec") or [], row.get("beat_times_sec") or [],
                                        row.get("downbeat_times_sec") or [], row.get("beats_per_bar"),
                                        row.get("time_signature"), at_beats(onset_env), at_beats(low_env), at_beats(high_env),
                                        high_ratio, beat_refine.phase_profile(onset_env, np.asarray(row.get("beat_times_sec") or []),
                                                                              frame_rate_hz))
    features = genre.features_for_genre(row, harmonic, rhythmic)
    genres = genre.genre_analysis(features, row.get("genre"), genre.load_model(theory_cfg["genre_model"]), theory_cfg["tag_weight"],
                                  sharpness=theory_cfg["genre_sharpness"])
    return {"harmonic_analysis": harmonic, "rhythmic_analysis": rhythmic, "genre_analysis": genres}


def finish(row: dict) -> dict:
    duration = row.get("decoded_duration_sec") or row.get("duration_sec")
    for m in row["metrics"]:
        m["audio_duration_sec"] = duration
    return row


def process_song(item: dict, data: bytes | None, cfg: dict, run_id: str) -> dict:
    """All CPU stages on one song's bytes (no stems). Returns a dict with the schema.RESULT keys."""
    row = new_row(item, run_id)
    decoded = decode_stage(row, data, cfg)
    if decoded is not None:
        mir_stage(row, *decoded, cfg)
    return finish(row)
