"""The committed case-folding table (builder/core/casefold.py) is Unicode's simple case folding:
known hard cases, its shape, and the Unicode data itself where the machine has it
(Debian's `unicode-data` package: /usr/share/unicode/CaseFolding.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_events.builder.core import casefold_generate
from contact_events.builder.core.casefold import SIMPLE_CASE_FOLDING, UNICODE_VERSION
from contact_events.builder.core.contract import CASEFOLD_FROM, CASEFOLD_TO, EMAIL_FOLD

DEBIAN_SOURCE = Path("/usr/share/unicode/CaseFolding.txt")

# (character, what it folds to): from CaseFolding.txt, statuses C and S.
HARD = [
    ("A", "a"),
    ("Z", "z"),
    ("Ø", "ø"),
    ("É", "é"),
    ("Σ", "σ"),
    ("ς", "σ"),  # final sigma folds too (C), so ΟΔΟΣ and οδος are one
    ("ẞ", "ß"),  # S: the one-character folding, not F's "ss"
    ("İ", "İ"),  # only F (i̇) and T (i): stays as it is
    ("ı", "ı"),  # dotless i: folds to nothing else
    ("Ａ", "ａ"),  # full-width
    ("Ά", "ά"),  # Greek with tonos
    ("Ό", "ό"),
    ("ΐ", "ΐ"),  # U+1FD3 -> U+0390 (S, new in Unicode 16)
    ("\u212a", "k"),  # Kelvin sign
    ("\u212b", "å"),  # Angstrom sign
    ("ſ", "s"),  # long s
    ("µ", "μ"),  # micro sign -> Greek mu
    ("ǅ", "ǆ"),  # title case digraph
    ("Ꭰ", "Ꭰ"),  # Cherokee: lower case folds to upper (U+AB70 -> U+13A0), upper stays
    ("ꭰ", "Ꭰ"),
    ("\U00010400", "\U00010428"),  # Deseret: outside the BMP
    ("\U0001e900", "\U0001e922"),  # Adlam
    ("ß", "ß"),  # already folded
    ("a", "a"),
    ("@", "@"),
    ("1", "1"),
]


@pytest.mark.parametrize(("char", "folded"), HARD, ids=[f"U+{ord(h[0]):04X}" for h in HARD])
def test_known_hard_cases(char, folded):
    assert char.translate(EMAIL_FOLD) == folded


def test_one_character_for_one_and_every_source_once():
    assert len(CASEFOLD_FROM) == len(CASEFOLD_TO) == len(SIMPLE_CASE_FOLDING)
    assert len(set(CASEFOLD_FROM)) == len(CASEFOLD_FROM)  # TRANSLATE: no character twice
    assert all(chr(k) != chr(v) for k, v in SIMPLE_CASE_FOLDING.items())
    assert list(SIMPLE_CASE_FOLDING) == sorted(SIMPLE_CASE_FOLDING)


def test_folding_is_idempotent():
    """A folded address folds to itself: the mirror's stored emails are normalised once
    and compare equal when normalised again (an incremental build re-reads them)."""
    assert CASEFOLD_TO.translate(EMAIL_FOLD) == CASEFOLD_TO


def test_the_trim_characters_and_ascii_punctuation_are_not_folded():
    assert not set(" \t\r\n@.+-_") & set(CASEFOLD_FROM)
    ascii_sources = [ch for ch in CASEFOLD_FROM if ch.isascii()]
    assert "".join(ascii_sources) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_parse_reads_statuses_c_and_s_only():
    text = (
        "# CaseFolding-99.0.0.txt\n"
        "0041; C; 0061; # LATIN CAPITAL LETTER A\n"
        "00DF; F; 0073 0073; # LATIN SMALL LETTER SHARP S\n"
        "0130; T; 0069; # LATIN CAPITAL LETTER I WITH DOT ABOVE\n"
        "1E9E; F; 0073 0073; # LATIN CAPITAL LETTER SHARP S\n"
        "1E9E; S; 00DF; # LATIN CAPITAL LETTER SHARP S\n"
    )
    assert casefold_generate.parse_casefolding_txt(text) == ("99.0.0", {0x41: 0x61, 0x1E9E: 0xDF})


def test_generate_renders_the_committed_module_form(tmp_path):
    source = tmp_path / "CaseFolding.txt"
    source.write_text("# CaseFolding-99.0.0.txt\n0042; C; 0062; # B\n0041; C; 0061; # A\n")
    out = tmp_path / "casefold.py"
    casefold_generate.main([str(source), "--out", str(out)])
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)  # noqa: S102 - our output
    assert namespace["UNICODE_VERSION"] == "99.0.0"
    assert namespace["SIMPLE_CASE_FOLDING"] == {0x41: 0x61, 0x42: 0x62}


@pytest.mark.skipif(not DEBIAN_SOURCE.exists(), reason="apt-get install unicode-data")
def test_the_table_is_the_unicode_data_on_this_machine():
    """The same version: the same table. An older CaseFolding.txt: every folding it has is
    in the table unchanged (Unicode's case-folding stability), and the table adds only
    foldings of later versions."""
    version, source = casefold_generate.parse_casefolding_txt(DEBIAN_SOURCE.read_text("utf-8"))
    assert version is not None
    if version == UNICODE_VERSION:
        assert source == SIMPLE_CASE_FOLDING
        return
    assert tuple(map(int, version.split("."))) < tuple(map(int, UNICODE_VERSION.split(".")))
    assert {k: SIMPLE_CASE_FOLDING.get(k) for k in source} == source
    assert len(SIMPLE_CASE_FOLDING) > len(source)
