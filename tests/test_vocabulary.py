"""Language packs (rag/language/vocabulary/): each one loads, and a new one is picked up."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path

from rag.language.vocabulary import Vocabulary, vocabularies, vocabulary

PACKS = Path(__file__).resolve().parents[1] / "rag" / "language" / "vocabulary"
# Structure questions are built from words where a language has capitals, from phrases where not.
WORD_QUESTIONS = ("who", "when", "which", "wrote", "appeared", "document_words", "role_words")
PHRASE_QUESTIONS = (
    "asks_commenter",
    "asks_author",
    "asks_comment_date",
    "asks_published",
    "asks_publication",
    "asks_title",
    "phrase_role_words",
)


def test_every_pack_file_is_loaded_once_under_its_own_code() -> None:
    files = sorted(path.stem for path in PACKS.glob("*.py") if not path.stem.startswith("_"))
    assert sorted(pack.code for pack in vocabularies()) == files
    assert vocabularies()[0].code == "en"
    assert all(pack.name for pack in vocabularies())


def test_every_words_fragment_of_every_pack_compiles() -> None:
    for pack in vocabularies():
        for field in fields(Vocabulary):
            value = getattr(pack, field.name)
            if isinstance(value, tuple):
                for fragment in value:
                    re.compile(fragment)


def test_the_languages_structure_questions_are_asked_in_have_all_their_words() -> None:
    for code in ("en", "de", "es", "fr", "it", "pt", "ru"):
        pack = vocabulary(code)
        assert pack is not None and pack.has_capitals
        assert all(getattr(pack, name) for name in WORD_QUESTIONS), code
        assert pack.months or pack.short_months, code
        assert not any(getattr(pack, name) for name in PHRASE_QUESTIONS), code
    for code in ("zh", "ar", "hi"):
        pack = vocabulary(code)
        assert pack is not None and not pack.has_capitals
        assert all(getattr(pack, name) for name in PHRASE_QUESTIONS), code
        assert pack.asks_count and pack.asks_year and pack.labelled_bylines, code
        assert not any(getattr(pack, name) for name in WORD_QUESTIONS), code


def test_a_new_pack_file_reaches_the_questions_and_dates_it_names(tmp_path: Path) -> None:
    (tmp_path / "cs.py").write_text(
        textwrap.dedent(
            '''
            """Czech."""

            from rag.language.vocabulary import Vocabulary

            VOCABULARY = Vocabulary(
                code="cs",
                name="Czech",
                who=("kdo",),
                wrote=(r"napsal\\w*",),
                document_words=(r"čl[aá]n\\w*",),
                months=("listopadu",),
            )
            '''
        )
    )
    # In a process of its own: the patterns are built once, when their modules are imported.
    script = textwrap.dedent(
        f"""
        import rag.language.vocabulary as packs
        packs.__path__.append({str(tmp_path)!r})
        from rag.answer.structure_questions import asked_structure
        from rag.language.structure import DATE_PATTERN
        assert packs.vocabulary("cs") is not None
        found = asked_structure("Kdo napsal tento článek?")
        assert found is not None and found.kinds == ("byline", "author"), found
        assert DATE_PATTERN.search("9. listopadu 2018") is not None
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
