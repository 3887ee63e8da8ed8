"""Several index folders served at once under names; a question may search several, fused by rank."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.access.identity import Actor
from rag.access.policy import OPEN, AccessPolicy
from rag.answer.asking import answer_stream, on_final
from rag.answer.lexical import TermStatistics, pooled_statistics
from rag.answer.question import AskOptions
from rag.embedding import Embedder
from rag.embedding.reuse import ReusingEmbedder, StoredVectors
from rag.errors import NotFoundError, SettingsError
from rag.knowledge_base import KnowledgeBase
from rag.serve.audit import AuditTrail
from rag.serve.source_names import SourceNames
from rag.settings import RetrievalMode, Settings
from rag.storage.question_log import asked_about
from rag.storage.store import Store
from rag.types import Answer, Document, Passage

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str) -> str:
    """A collection name usable in URLs and in a comma-separated `model`."""
    if not _NAME.match(name):
        raise SettingsError(
            f"collection name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return name


def fuse_collections(
    ranked: Mapping[str, Sequence[Passage]], k: int, rrf_k: int, same_model: bool = True
) -> list[Passage]:
    """One ranking of several collections' passages, each stamped with its collection.

    Reciprocal rank fusion of two rankings: each passage's rank inside its own collection, and
    its rank by dense (cosine) score across all of them, which is comparable between indexes
    that share the embedding model (`same_model`; otherwise only the first ranking counts).
    Each collection's best passage stays in the running, while the rest of a collection that
    has nothing close to the question sinks below the others'.
    """
    entries = [(name, passage) for name, passages in ranked.items() for passage in passages]
    fused = [1.0 / (rrf_k + passage.rank) for _, passage in entries]
    with_dense = [
        index for index, (_, passage) in enumerate(entries) if same_model and passage.dense_score is not None
    ]
    with_dense.sort(key=lambda index: -float(entries[index][1].dense_score or 0.0))
    for position, index in enumerate(with_dense, start=1):
        fused[index] += 1.0 / (rrf_k + position)
    best = sorted(range(len(entries)), key=lambda index: -fused[index])[:k]
    return [
        replace(
            entries[index][1], rank=rank, fused_score=round(fused[index], 6), collection=entries[index][0]
        )
        for rank, index in enumerate(best, start=1)
    ]


def answering_collection(answer: Answer, names: Sequence[str]) -> str:
    """The collection that answered: the one its first citation quotes, the first asked for a refusal.

    Its index keeps the question's log row and the feedback on the answer.
    """
    for citation in answer.citations:
        if citation.collection in names:
            return citation.collection
    return names[0]


@dataclass
class Collection:
    """One served index folder and the lock that serialises this server's writes to it."""

    name: str
    base: KnowledgeBase
    write_lock: threading.Lock
    sources: SourceNames  # what a caller calls each stored source


class Collections:
    """The named knowledge bases one server answers from."""

    def __init__(self, bases: Mapping[str, KnowledgeBase]) -> None:
        if not bases:
            raise SettingsError("serve at least one collection: --collection NAME=DIR or --index DIR")
        self._by_name = {
            check_name(name): Collection(name, base, threading.Lock(), SourceNames(base))
            for name, base in bases.items()
        }
        # Which groups may read each collection and its documents (--access); None: no rules.
        self.policy: AccessPolicy | None = None
        # Where questions, quotes, changes and refusals are recorded (each collection's index).
        self.trail = AuditTrail({name: collection.base for name, collection in self._by_name.items()})

    @property
    def names(self) -> list[str]:
        """The served collection names, in the order given."""
        return list(self._by_name)

    def get(self, name: str) -> Collection:
        """The collection of that name; NotFoundError when none is served under it."""
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFoundError(f"no collection named {name!r}") from None

    def base(self, name: str) -> KnowledgeBase:
        """The knowledge base of one collection."""
        return self.get(name).base

    def select(self, names: Sequence[str], actor: Actor | None = None) -> Selection:
        """The named collections as one corpus to search and ask (all of them when names is empty),
        as the actor may see them: only the documents they may read exist in it."""
        return Selection(self, [self.get(name).name for name in names] or self.names, actor)

    def answered_in(self, answer: Answer) -> KnowledgeBase:
        """The knowledge base of the collection that answered (answering_collection)."""
        return self.base(answering_collection(answer, self.names))

    def reader(self, name: str, actor: Actor | None) -> KnowledgeBase:
        """One collection as the actor may see it (the whole of it for None)."""
        base = self.base(name)
        if actor is None:
            return base
        return base.for_reader(actor, self.policy.rule(name) if self.policy is not None else OPEN)

    def without_folders(self, message: str) -> str:
        """The message with each served folder or database named as its collection: the server's
        disk and database are not the caller's business."""
        spellings = []
        for name, collection in self._by_name.items():
            if collection.base.url is not None:
                location = collection.base.location  # the URL without its password
                spellings += [
                    (location, f"collection {name}"),
                    (location.partition("?")[0], f"collection {name}"),
                ]
                continue
            folder = collection.base.folder
            spellings += [
                (str(path), f"collection {name}") for path in {folder, folder.absolute(), folder.resolve()}
            ]
        for spelling, replacement in sorted(spellings, key=lambda item: -len(item[0])):
            message = message.replace(spelling, replacement)
        return message

    def close(self) -> None:
        """Release this thread's database connections."""
        for collection in self._by_name.values():
            collection.base.close()


class Selection:
    """Some served collections asked as one corpus: passages fused by rank, term counts pooled,
    every passage and citation naming its collection."""

    def __init__(self, collections: Collections, names: Sequence[str], actor: Actor | None = None) -> None:
        self.names = list(names)
        self.actor = actor
        self._bases = [collections.reader(name, actor) for name in self.names]
        self._sources = [collections.get(name).sources for name in self.names]
        self._first = self._bases[0]

    @property
    def settings(self) -> Settings:
        """The first collection's settings answer for all of them."""
        return self._first.settings

    def question_embedder(self) -> Embedder:
        """One question's embedder, reusing sentence vectors of collections on the answering model."""
        return ReusingEmbedder(self._first.embedder, self._stored_sentence_vectors())

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: Embedder | None = None,
    ) -> list[Passage]:
        """The k best passages of the collections, fused by rank, each naming its collection and
        its source as the collection shows it.

        The question's embedder serves the collections on its model; another model embeds alone.
        """
        k = k or self.settings.top_k
        model = self._first.model_name
        ranked = {
            name: [
                replace(passage, source=sources.shown(passage.source))
                for passage in base.search(query, k, mode, embedder if base.model_name == model else None)
            ]
            for name, base, sources in zip(self.names, self._bases, self._sources, strict=True)
        }
        if len(self.names) == 1:
            return [replace(passage, collection=self.names[0]) for passage in ranked[self.names[0]]]
        same_model = len({base.model_name for base in self._bases}) == 1
        return fuse_collections(ranked, k, self.settings.rrf_k, same_model)

    def narrowed_to(self, name: str) -> Selection:
        """Only the collection `name` of this selection (a citation's), as the same actor sees it:
        two collections may each hold a file shown under the same name. The whole selection when
        the name is "" or not one of it."""
        if name not in self.names or len(self.names) == 1:
            return self
        position = self.names.index(name)
        narrowed = copy.copy(self)
        narrowed.names = [name]
        narrowed._bases, narrowed._sources = [self._bases[position]], [self._sources[position]]
        narrowed._first = self._bases[position]
        return narrowed

    def document(self, document_id: str) -> Document:
        """A stored document by id or shown source, from the first collection holding it."""
        for base, sources in zip(self._bases, self._sources, strict=True):
            try:
                document = base.document(sources.stored(document_id))
            except NotFoundError:
                continue
            return replace(document, source=sources.shown(document.source))
        raise NotFoundError(f"no document {document_id!r} in {', '.join(self.names)}")

    def page_image(
        self,
        document_id: str,
        page: int,
        highlight: tuple[int, int] | None = None,
        width: int | None = None,
    ) -> bytes:
        """PNG of a page of a stored PDF or picture (KnowledgeBase.page_image), by id or shown
        source, from the first collection holding the document."""
        base, stored = self._holding(document_id)
        return base.page_image(stored, page, highlight, width)

    def highlight_boxes(
        self, document_id: str, page: int, highlight: tuple[int, int]
    ) -> list[tuple[float, float, float, float]]:
        """Where characters of a document are on its page (KnowledgeBase.highlight_boxes)."""
        base, stored = self._holding(document_id)
        return base.highlight_boxes(stored, page, highlight)

    def quote_thumbnail(self, document_id: str, highlight: tuple[int, int], width: int = 320) -> bytes:
        """The quote's region of its page (KnowledgeBase.quote_thumbnail)."""
        base, stored = self._holding(document_id)
        return base.quote_thumbnail(stored, highlight, width)

    def _holding(self, document_id: str) -> tuple[KnowledgeBase, str]:
        """The first collection holding a document with pages of this id or shown source, and
        the id or stored source to ask it for."""
        for base, sources in zip(self._bases, self._sources, strict=True):
            stored = sources.stored(document_id)
            try:
                base.engine_store().paged_file(stored)
            except NotFoundError:
                continue
            return base, stored
        raise NotFoundError(f"no document {document_id!r} in {', '.join(self.names)}")

    def is_empty(self) -> bool:
        """Whether none of the collections holds a document."""
        return all(base.is_empty() for base in self._bases)

    def term_statistics(self) -> TermStatistics:
        """The collections' term counts pooled, as if they were one index."""
        return pooled_statistics([base.term_statistics() for base in self._bases])

    def ask_stream(self, question: str, options: AskOptions | None = None) -> Iterator[Answer]:
        """Growing partial Answers; every citation names its collection.

        A question that names its channel (options.channel) is logged in the collection that
        answered it (its first citation's), a refusal in the first collection asked.
        """
        answers = answer_stream(question, self, options)
        if options is None or not options.channel:
            return answers
        # The owner on loopback (no keys, no tokens) is no one in particular.
        known = self.actor is not None and self.actor.kind != "local"
        who = options.asked_by or (self.actor.name if known and self.actor is not None else "")
        channel = options.channel

        def record(answer: Answer, latency_ms: float) -> None:
            name = answering_collection(answer, self.names)
            base = self._bases[self.names.index(name)]
            base.log_question(asked_about(answer, latency_ms, who, channel, name))

        return on_final(answers, record)

    def ask(self, question: str, options: AskOptions | None = None) -> Answer:
        """The final Answer of ask_stream."""
        *_, final = self.ask_stream(question, options)
        return final

    def _stored_sentence_vectors(self) -> StoredVectors:
        """Sentence vectors from the collections embedded with the answering model (never another's)."""
        model = self._first.model_name
        stores = [base.store for base in self._bases if base.model_name == model]

        def stored(texts: Sequence[str], dimension: int) -> dict[str, np.ndarray]:
            found: dict[str, np.ndarray] = {}
            for store in stores:
                found |= store.sentence_vectors([text for text in texts if text not in found], dimension)
            return found

        return stored


def open_collections(
    folders: Mapping[str, Path | str], settings: Settings | None = None, embedder: Any = None
) -> Collections:
    """Open each named index (a folder, or a postgresql:// URL); collections on the same embedding
    model share one loaded model."""
    bases: dict[str, KnowledgeBase] = {}
    loaded: dict[str, Any] = {}
    for name, folder in folders.items():
        check_name(name)
        if isinstance(folder, str):
            bases[name] = _database_collection(name, folder, settings, embedder, loaded)
            continue
        if not folder.is_dir():
            raise NotFoundError(
                f"collection {name}: {folder} is not a folder; build it with `rag ingest PATH --index {folder}`"
            )
        base = KnowledgeBase(folder, settings, embedder)
        if not base.exists:
            if Store.holds_other_files(folder):
                # Only ingest creates an index in a folder that holds something (the documents
                # folder given by mistake, say); an empty one is an index to fill by uploads.
                raise NotFoundError(
                    f"collection {name}: {folder} holds files but no index; build one with "
                    f"`rag ingest PATH --index {folder}`, or name an empty folder to fill by uploads"
                )
            base.create()
        base.embedder = loaded.setdefault(base.model_name, base.embedder)
        bases[name] = base
    return Collections(bases)


def _database_collection(
    name: str, url: str, settings: Settings | None, embedder: Any, loaded: dict[str, Any]
) -> KnowledgeBase:
    """A collection in PostgreSQL: served as it is (a server never creates the tables)."""
    base = KnowledgeBase(url, settings, embedder)
    if not base.exists:
        raise NotFoundError(
            f"collection {name}: no index in {base.location}; build it with `rag ingest PATH --index URL`"
        )
    base.embedder = loaded.setdefault(base.model_name, base.embedder)
    return base
