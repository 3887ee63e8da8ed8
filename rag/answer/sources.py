"""Source constraints: "according to the Washington Post piece", "in the Stratfor piece", "in the
budget sheet" name the documents a question may be answered from.

The name is matched against what names a document (its title, file name, headline, byline and
publication, found at ingest), never against its text: "according to the AAA" names no document
of a corpus that merely mentions the AAA, and such a question is asked as it stands.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePath

from rag.answer.corpus import Corpus
from rag.answer.lexical import TermStatistics
from rag.embedding import Embedder
from rag.language.structure import BYLINE, HEADLINE, PUBLICATION, TITLE
from rag.settings import RetrievalMode, Settings
from rag.types import Document, Passage

_DOCUMENT_NOUNS = (
    r"(?:piece|article|story|report|analysis|sheet|spreadsheet|workbook|table|document|page|file|paper"
    r"|post|memo|presentation|slides|deck|essay|op-ed|column)"
)
# "..., according to the Washington Post piece", "given in the Stratfor piece", "from the budget sheet".
_NAMED = (
    re.compile(r"[,\s]*\baccording\s+to\s+(?P<name>[^,?;!]+?)(?=\s*[,?;!]|\s*$)", re.I),
    re.compile(
        r"[,\s]*\b(?:(?:given|stated|mentioned|reported|said|quoted)\s+)?(?:in|from)\s+the\s+"
        rf"(?P<name>(?:[\w.&'’-]+\s+){{1,4}}?{_DOCUMENT_NOUNS})\b",
        re.I,
    ),
)
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.I)
_TRAILING = re.compile(rf"(?:['’]s)?\s+{_DOCUMENT_NOUNS}$", re.I)
_WORD = re.compile(r"[^\W_]+(?:[.&'’-][^\W_]+)*")
_NAMING_KINDS = frozenset({TITLE, HEADLINE, BYLINE, PUBLICATION})
NARROWED_NOTICE = "Searched only the documents named “{name}”."
WIDE_SEARCH = 200  # passages searched for a constrained question, before those of other documents go


@dataclasses.dataclass(frozen=True)
class SourceConstraint:
    """The documents a question names, and the question without the words that name them."""

    name: str  # "Stratfor", "Washington Post", "budget"
    query: str

    def names(self, document: Document) -> bool:
        """Whether every word of the name is a word of what names the document."""
        wanted = _words(self.name)
        return bool(wanted) and wanted <= _words(naming_text(document))


def source_constraint(question: str) -> SourceConstraint | None:
    """The source a question names ("according to X", "in the X piece"), or None."""
    for pattern in _NAMED:
        match = pattern.search(question)
        if match is None:
            continue
        name = _TRAILING.sub("", _LEADING.sub("", match.group("name").strip()))
        if not _words(name):
            continue
        query = (question[: match.start()] + question[match.end() :]).strip()
        query = re.sub(r"^[,\s]+", "", query)
        return SourceConstraint(name, query[:1].upper() + query[1:])
    return None


def naming_text(document: Document) -> str:
    """What names a document: its title, file name, and headline, byline and publication."""
    spans = [
        document.text[span.start : span.end] for span in document.structure if span.kind in _NAMING_KINDS
    ]
    return " ".join([document.title, PurePath(document.source).stem, *spans])


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text.replace("_", " "))}


def narrowed(query: str, corpus: Corpus) -> tuple[str, Corpus, str]:
    """The query without its source phrase, the corpus narrowed to the documents it names and a
    notice saying so; all unchanged ("" for the notice) when the query names no source, or one
    that no document found for it goes by."""
    constraint = source_constraint(query)
    if constraint is None:
        return query, corpus, ""
    narrower = NarrowedCorpus(corpus, constraint)
    if not narrower.search(constraint.query, 1):
        return query, corpus, ""
    return constraint.query, narrower, NARROWED_NOTICE.format(name=constraint.name)


class NarrowedCorpus:
    """A corpus whose search finds only passages of the documents a constraint names."""

    def __init__(self, corpus: Corpus, constraint: SourceConstraint) -> None:
        self.corpus = corpus
        self.constraint = constraint
        self._named: dict[str, bool] = {}

    @property
    def settings(self) -> Settings:
        """The settings of the corpus narrowed."""
        return self.corpus.settings

    def question_embedder(self) -> Embedder:
        """A fresh question embedder of the corpus narrowed."""
        return self.corpus.question_embedder()

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: Embedder | None = None,
    ) -> list[Passage]:
        """The k best passages of the named documents, ranked anew from 1."""
        count = k or self.settings.top_k
        found = self.corpus.search(query, max(count, WIDE_SEARCH), mode, embedder)
        kept = [passage for passage in found if self._names(passage.document_id)][:count]
        return [dataclasses.replace(passage, rank=rank) for rank, passage in enumerate(kept, start=1)]

    def document(self, document_id: str) -> Document:
        """A stored document of the corpus narrowed."""
        return self.corpus.document(document_id)

    def is_empty(self) -> bool:
        """Whether the corpus narrowed holds no document."""
        return self.corpus.is_empty()

    def term_statistics(self) -> TermStatistics:
        """The term statistics of the whole corpus (the rarity of a word does not change)."""
        return self.corpus.term_statistics()

    def _names(self, document_id: str) -> bool:
        if document_id not in self._named:
            self._named[document_id] = self.constraint.names(self.corpus.document(document_id))
        return self._named[document_id]
