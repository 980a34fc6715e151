"""Symbolic check of the harmonic analysis against music21's own RomanText analyses.

For every chord of the 68 `.rntxt` analyses in music21's corpus (Bach chorales, Monteverdi madrigals):
take its root, quality and local key as the analysis states them, turn them into the Harte label our
chord estimator would emit, run mirray's roman-numeral and function code, and compare with the
analysis: the numeral (degree, case, applied target; inversions, figures and accidentals aside), and the
whole figure with the inversion in the label's bass ("V65", "VII", "V7/IV"; "6/5" written as "65").
Chords outside our vocabulary (diminished, augmented, half-diminished, sixths) are counted apart, as our
chord estimator cannot emit them.

    .venv/bin/python benchmarks/theory_rntxt.py
"""

from __future__ import annotations

import glob
import re
import time
from collections import Counter
from pathlib import Path

import music21
from music21 import converter, roman

from mirray.udfs import theory

# (triad quality, music21's commonName of the seventh chord or False) -> Harte quality
QUALITY = {("major", False): "maj", ("minor", False): "min", ("major", "dominant seventh chord"): "7",
           ("major", "major seventh chord"): "maj7", ("minor", "minor seventh chord"): "min7"}


def numeral(figure: str) -> str:
    return theory._triad_numeral(figure)


BASS_DEGREE = {3: "b3", 4: "3", 7: "5", 10: "b7", 11: "7"}  # semitones above the root -> Harte bass degree


def plain_figure(figure: str) -> str:
    """RomanText writes "V6/5", "I6/4" and "V2" where music21's figures say "V65", "I64", "V42"; "[no5]"
    (an omitted fifth) is not ours to hear; the applied target's case is ignored as in the numeral row."""
    for slashed, joined in (("6/5", "65"), ("6/4", "64"), ("4/3", "43"), ("4/2", "42")):
        figure = figure.replace(slashed, joined)
    figure = re.sub(r"\[[^]]*\]", "", re.sub(r"(?<=[IViv])2", "42", figure)).rstrip("/")
    primary, _, target = figure.partition("/")
    return primary + ("/" + target.upper() if target else "")


def analysed_function(rn, tonic: str, mode: str) -> str:
    """The analyst's function in mirray's taxonomy, from what the analysis writes: an applied V or vii
    ("V7/V", "viio7/ii") is a secondary dominant; otherwise the degree and quality the analyst gave,
    looked up in the key's diatonic functions, else the parallel mode's (borrowed), else chromatic."""
    if rn.secondaryRomanNumeral is not None:
        return "secondary_dominant" if rn.romanNumeralAlone.upper() in ("V", "VII") else "chromatic"
    degree = (rn.root().pitchClass - theory.pitch_class(tonic)) % 12
    triad = "min" if rn.quality == "minor" else "maj"
    if triad in theory.DIATONIC[mode].get(degree, ()):
        return theory.FUNCTIONS[mode].get(degree, "chromatic")
    return "borrowed" if triad in theory.DIATONIC["minor" if mode == "major" else "major"].get(degree, ()) else "chromatic"


def main() -> None:
    root = Path(music21.__file__).parent / "corpus"
    files = sorted(glob.glob(str(root / "**" / "*.rntxt"), recursive=True))
    counts = Counter()
    mismatches = Counter()
    figure_mismatches = Counter()
    function_mismatches = Counter()
    t0 = time.process_time()
    n_ours = 0
    for path in files:
        s = converter.parse(path, format="romanText")
        for rn in s.recurse().getElementsByClass(roman.RomanNumeral):
            counts["chords"] += 1
            seventh = rn.seventh is not None
            kind = rn.commonName if seventh else False
            key = QUALITY.get((rn.quality, kind if seventh else False))
            if key is None:
                counts["outside vocabulary"] += 1
                continue
            tonic, mode = rn.key.tonic.name.replace("-", "b"), rn.key.mode
            if mode not in ("major", "minor"):
                counts["outside vocabulary"] += 1
                continue
            label = f"{rn.root().name.replace('-', 'b')}:{key}"
            bass = BASS_DEGREE.get((rn.bass().pitchClass - rn.root().pitchClass) % 12) if rn.inversion() else None
            func = theory.function_of(label, tonic, mode)
            fig = theory.roman_figure(label, tonic, mode, func == "secondary_dominant")
            n_ours += 1
            ref = rn.romanNumeralAlone + (f"/{rn.secondaryRomanNumeral.romanNumeralAlone}" if rn.secondaryRomanNumeral else "")
            ours = numeral(fig)
            # V/v and V/V name the same chord: compare the applied target without its case
            ref, ours = (x.split("/")[0] + "/" + x.split("/")[1].upper() if "/" in x else x for x in (ref, ours))
            ok = ours == ref
            counts["numeral agree"] += ok
            if not ok:
                mismatches[(ref, ours)] += 1
            ref_func = analysed_function(rn, tonic, mode)
            counts["function agree"] += func == ref_func
            if func != ref_func:
                function_mismatches[(ref_func, func)] += 1
            whole = plain_figure(theory.roman_figure(label + (f"/{bass}" if bass else ""), tonic, mode, func == "secondary_dominant"))
            counts["figure agree"] += whole == plain_figure(rn.figure)
            if whole != plain_figure(rn.figure):
                figure_mismatches[(plain_figure(rn.figure), whole)] += 1
    cpu = time.process_time() - t0
    n = n_ours
    print(f"\nRomanText analyses: {len(files)} files, {counts['chords']} chords, {n} in our vocabulary "
          f"({counts['outside vocabulary']} outside: diminished, augmented, half-diminished, augmented sixths, modal keys)")
    print("| measure | agreement |")
    print("|---|---:|")
    print(f"| roman numeral (degree, case, secondary target) | {counts['numeral agree'] / n:.3f} |")
    print(f"| whole figure (numeral, accidental, seventh, inversion) | {counts['figure agree'] / n:.3f} |")
    print(f"| function (tonic, dominant, secondary dominant, borrowed, …) | {counts['function agree'] / n:.3f} |")
    print(f"\nmost frequent disagreements (analysis → ours): {mismatches.most_common(8)}")
    print(f"most frequent figure disagreements: {figure_mismatches.most_common(12)}")
    print(f"most frequent function disagreements: {function_mismatches.most_common(8)}")
    print(f"CPU incl. parsing: {cpu:.1f} s")


if __name__ == "__main__":
    main()
