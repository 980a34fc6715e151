"""Audio check of the theory stage on music21's RomanText corpus: render the analysed scores, run mirray.

For every `.rntxt` analysis whose score is in music21's corpus (Bach chorales by BWV, Monteverdi madrigals
by name): the score goes to MIDI at 80 quarter notes per minute, every part on a church organ (GM 19),
through fluidsynth, to MP3, and through all CPU stages. At the middle of each analysed chord:
- chord: our Harte label vs the analysis chord (root and major/minor; chords outside our vocabulary skipped);
- key: our local key (key segments) vs the analysis key (MIREX weighted score);
- numeral: our chord named in our local key vs the analysis numeral (degree, case, applied target).
Report only (issue 5 sets no target). Needs fluidsynth + FluidR3_GM.sf2.

    .venv/bin/python benchmarks/theory_rntxt_audio.py [--limit 68] [--source bach] [--dir DIR]
"""

from __future__ import annotations

import argparse
import glob
import re
import tempfile
from pathlib import Path

import mir_eval
import music21
import numpy as np
from music21 import converter, corpus, roman

from mir_eval_bench import add_set_option, mirray_run  # benchmarks/ is on sys.path when run as a script
from mirray.config import load_config
from mirray.corpus.chorales import render_chorale
from mirray.udfs import theory

QPM = 80.0
QUALITY = {("major", False): "maj", ("minor", False): "min", ("major", "dominant-seventh"): "7",
           ("major", "major-seventh"): "maj7", ("minor", "minor-seventh"): "min7"}


def score_for(rntxt: Path):
    if "monteverdi" in str(rntxt):
        mxl = rntxt.with_suffix(".mxl")
        return converter.parse(str(mxl)) if mxl.exists() else None
    bwv = re.search(r"^BWV:\s*(\S+)", rntxt.read_text(), re.M)
    if not bwv:
        return None
    try:
        return corpus.parse(f"bach/bwv{bwv.group(1)}")
    except Exception:
        return None


def label_of(rn) -> str | None:
    seventh = rn.seventh is not None
    q = QUALITY.get((rn.quality, rn.commonName if seventh else False))
    return f"{rn.root().name.replace('-', 'b')}:{q}" if q else None


def ref_numeral(rn) -> str:
    ref = rn.romanNumeralAlone + (f"/{rn.secondaryRomanNumeral.romanNumeralAlone}" if rn.secondaryRomanNumeral else "")
    return ref.split("/")[0] + "/" + ref.split("/")[1].upper() if "/" in ref else ref


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=68)
    p.add_argument("--source", choices=("all", "bach", "monteverdi"), default="all",
                   help="only these analyses (bach: the 18 chorales, ~14 audio minutes; monteverdi: ~209)")
    p.add_argument("--dir", type=Path, help="render into (and reuse renders from) this folder instead of a temporary one")
    add_set_option(p)
    args = p.parse_args()
    cfg = load_config(overrides=args.set)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="mirray-rntxt-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(glob.glob(str(Path(music21.__file__).parent / "corpus" / "**" / "*.rntxt"), recursive=True))[: args.limit]
    stats = {src: {"chord": [], "key": [], "numeral": [], "pieces": 0, "minutes": 0.0} for src in ("bach", "monteverdi")}
    for path in map(Path, files):
        if args.source != "all" and ("monteverdi" in str(path)) != (args.source == "monteverdi"):
            continue
        target, score = folder / f"{path.stem}.mp3", None
        if not target.exists():  # a render already there needs no score
            score = score_for(path)
            if score is None:
                continue
        try:  # every part on a church organ
            mp3 = target if score is None else render_chorale(score, target, 0, 19, QPM)
        except Exception as exc:  # fluidsynth failed: say so, go on
            mp3, exc_text = None, f" ({type(exc).__name__}: {exc})"
        else:
            exc_text = ""
        if mp3 is None:  # or a score music21 cannot export
            print(f"{path.name}: not rendered{exc_text}")
            continue
        row, _ = mirray_run(mp3, cfg)
        if row["error"]:
            print(f"{path.name}: error {row['error']['message']}")
            continue
        st = stats["monteverdi" if "monteverdi" in str(path) else "bach"]
        chord_ok, key_score, num_ok = st["chord"], st["key"], st["numeral"]
        st["pieces"] += 1
        st["minutes"] += (row.get("decoded_duration_sec") or 0) / 60
        segs = row["key_segments"] or [{"start_sec": 0.0, "end_sec": 1e9, "key": row["key"]}]
        harmonic = row["music_theory"]["harmonic_analysis"]
        analysis = converter.parse(str(path), format="romanText").flatten().getElementsByClass(roman.RomanNumeral)
        for rn in analysis:
            if rn.key.mode not in ("major", "minor"):
                continue
            t = (rn.offset + rn.quarterLength / 2) * 60.0 / QPM
            est = next((c["label"] for c in row["chords"] if c["start_sec"] <= t < c["end_sec"]), "N")
            est_key = next((s["key"] for s in segs if s["start_sec"] <= t < s["end_sec"]), segs[-1]["key"])
            ref_key = f"{rn.key.tonic.name.replace('-', 'b')} {rn.key.mode}"
            key_score.append(mir_eval.key.weighted_score(ref_key, est_key) if est_key else 0.0)
            label = label_of(rn)
            if label is None:
                continue
            chord_ok.append(est != "N" and mir_eval.chord.majmin([label], [est])[0] == 1)
            if est == "N" or not est_key:
                num_ok.append(False)
                continue
            # the pipeline's own numeral for the chord sounding there (read in its local key)
            fig = next((f for f, a, b in zip(harmonic["roman_numerals"], harmonic["chord_times_sec"],
                                             harmonic["chord_times_sec"][1:] + [1e9]) if a <= t < b), None)
            ours = theory._triad_numeral(fig or "")
            ours = ours.split("/")[0] + "/" + ours.split("/")[1].upper() if "/" in ours else ours
            num_ok.append(ours == ref_numeral(rn))
    print(f"\nRomanText pieces rendered (organ, {QPM:.0f} qpm) and run through mirray, measured at each analysed chord's middle")
    print("| corpus | pieces | audio min | chord root + major/minor | local key (MIREX) | roman numeral in our local key | chords |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for src, st in stats.items():
        if st["pieces"]:
            print(f"| {src} | {st['pieces']} | {st['minutes']:.1f} | {np.mean(st['chord']):.3f} | {np.mean(st['key']):.3f} | "
                  f"{np.mean(st['numeral']):.3f} | {len(st['chord'])} |")

if __name__ == "__main__":
    main()
