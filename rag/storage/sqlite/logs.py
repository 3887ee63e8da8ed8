"""The logs kept beside an index folder's documents: feedback on answers (rag/storage/feedback_table.py),
the question log (rag/storage/question_log.py) and the audit trail (rag/storage/audit.py)."""

from __future__ import annotations

from collections.abc import Sequence

from rag.errors import StorageError
from rag.feedback import CitationState, Feedback, SourcePassage
from rag.storage import audit, feedback_table, question_log
from rag.storage.audit import AuditAction, AuditEvent
from rag.storage.question_log import AskedQuestion, LogStatistics
from rag.storage.sqlite.opening import Database
from rag.storage.sqlite_errors import translated


class Logs(Database):
    """Rows appended one at a time, outside the writer lock, and read back for review."""

    @translated
    def add_feedback(self, given: Feedback, keep_from: str = "") -> Feedback:
        """Store feedback with its id, time and the cited documents' content hashes; return it.
        Feedback given before `keep_from` (an ISO time, the retention period's start) goes."""
        if self.read_only:
            raise StorageError(f"index {self.folder} is read-only here: feedback cannot be stored in it")
        # Not under the writer lock: an ingest holds that for minutes, and a feedback row touches
        # no document; SQLite orders it between the ingest's one-document transactions.
        with self._transaction() as connection:
            hashes = feedback_table.content_hashes(
                connection, [cited.document_id for cited in given.citations]
            )
            stamped = feedback_table.with_hashes(given, hashes)
            feedback_table.insert(connection, stamped)
            if keep_from:
                feedback_table.delete(connection, before=keep_from)
        return stamped

    @translated
    def feedback(self, since: str = "", limit: int | None = None) -> list[Feedback]:
        """Stored feedback given at or after `since` (ISO date or time), oldest first."""
        return feedback_table.select(self._connect(), since, limit)

    @translated
    def delete_feedback(self, ids: Sequence[str] = (), who: str | None = None, before: str = "") -> int:
        """Delete feedback by id, by who gave it, or given before an ISO time; return how many went."""
        with self._transaction() as connection:
            return feedback_table.delete(connection, ids, who, before)

    @translated
    def document_state(self, document_id: str, source: str) -> CitationState:
        """Whether a document cited in feedback is stored as it was, changed since, or removed."""
        return feedback_table.document_state(self._connect(), document_id, source)

    @translated
    def find_passage(self, words: str) -> SourcePassage | None:
        """The first stored document holding the words (verbatim, or across any white space)."""
        return feedback_table.find_passage(self._connect(), words)

    @translated
    def log_question(self, asked: AskedQuestion, keep_from: str = "") -> AskedQuestion:
        """Append a question to the question log (questions asked before `keep_from` go); return it."""
        if self.read_only:
            raise StorageError(f"index {self.folder} is read-only here: questions cannot be logged in it")
        # Like feedback: one row, not under the writer lock an ingest holds for minutes.
        stamped = asked.stamped()
        with self._transaction() as connection:
            question_log.insert(connection, stamped)
            if keep_from:
                question_log.delete(connection, before=keep_from)
        return stamped

    @translated
    def asked_questions(self, since: str = "", limit: int | None = None) -> list[AskedQuestion]:
        """The question log from `since` (ISO date or time) on, oldest first."""
        return question_log.select(self._connect(), since, limit)

    @translated
    def question_statistics(self, since: str = "", top: int = 10) -> LogStatistics:
        """What the dashboard counts in the question log from `since` on (storage/question_log.py)."""
        with self.snapshot() as connection:
            return question_log.statistics(connection, since, top)

    @translated
    def delete_questions(
        self, answer_ids: Sequence[str] = (), who: str | None = None, before: str = ""
    ) -> int:
        """Delete logged questions by answer id, by who asked, or asked before an ISO time; return how many."""
        with self._transaction() as connection:
            return question_log.delete(connection, answer_ids, who, before)

    @translated
    def record(self, actor: str, action: AuditAction, detail: dict[str, object]) -> None:
        """Append one event to the audit trail, in its own transaction."""
        with self._transaction() as connection:
            audit.add_audit_table(connection)
            audit.append(connection, actor, action, detail)

    @translated
    def prune_audit(self, days: float, actor: str) -> tuple[str, int]:
        """Remove audit events older than `days` days: (the cutoff time, how many went)."""
        with self._transaction() as connection:
            audit.add_audit_table(connection)
            return audit.prune(connection, days, actor)

    @translated
    def audit_events(self, since: str | None = None, actor: str | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first."""
        return audit.events(self._connect(), since, actor)
