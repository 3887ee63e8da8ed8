"""The UI's login sessions: kept server-side, ended by a log-out or by time."""

from __future__ import annotations

from types import SimpleNamespace

from rag.access import Actor
from ui.login import COOKIE, LONGEST_LOGIN_SECONDS, Logins

ALICE = Actor("alice@example.org", frozenset({"staff"}), "person")


def test_a_session_names_its_person_until_it_ends() -> None:
    now = [1000.0]
    logins = Logins(clock=lambda: now[0])
    session = logins.start(ALICE, until=now[0] + 60)
    assert logins.person_of(SimpleNamespace(cookies={COOKIE: session})) == ALICE
    assert logins.actor("a-guessed-id") is None and logins.actor(None) is None
    now[0] += 61
    assert logins.actor(session) is None  # the ID token it came from has expired


def test_a_log_out_ends_the_session_for_good() -> None:
    logins = Logins()
    session = logins.start(ALICE, until=9e12)
    assert logins.end(session) == ALICE
    assert logins.actor(session) is None  # a copy of the cookie kept elsewhere is worth nothing now


def test_no_login_outlives_the_longest_allowed() -> None:
    now = [0.0]
    logins = Logins(clock=lambda: now[0])
    session = logins.start(ALICE, until=10 * LONGEST_LOGIN_SECONDS)
    now[0] = LONGEST_LOGIN_SECONDS + 1
    assert logins.actor(session) is None
