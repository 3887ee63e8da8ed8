"""What each visitor of the page may see and change: the whole thing, or a person's share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import build_collections

import rag
from rag.access import Actor, load_policy
from ui import render
from ui.views import NotLoggedIn, Views

ACCESS = """
[collections.alpha]
read = ["orchard"]
write = ["editors"]
[collections.beta]
read = ["orchard", "yard"]
"""
BOTH = Actor("ada@example.org", frozenset({"orchard"}), "person")
YARD = Actor("bo@example.org", frozenset({"yard"}), "person")
EDITOR = Actor("ed@example.org", frozenset({"editors"}), "person")
NOBODY = Actor("no@example.org", frozenset(), "person")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[rag.Collections]:
    embedder = rag.HashingEmbedder(256)
    collections = rag.open_collections(build_collections(tmp_path, embedder), embedder=embedder)
    (tmp_path / "access.toml").write_text(ACCESS)
    collections.policy = load_policy(tmp_path / "access.toml", collections.names)
    yield collections
    collections.close()


def views_for(served: rag.Collections) -> Views:
    people = {"ada": BOTH, "bo": YARD, "ed": EDITOR, "no": NOBODY}
    return Views(served.base("alpha"), served, lambda request: people.get(request.cookies.get("who", "")))


def visitor(who: str) -> SimpleNamespace:
    return SimpleNamespace(cookies={"who": who})


def test_a_person_is_asked_and_shown_only_the_collections_their_groups_may_read(
    served: rag.Collections,
) -> None:
    views = views_for(served)
    bo = views.of(visitor("bo"))
    assert list(bo.names) == ["beta"] and not bo.may_write("beta")
    # Picking a collection they may not read is the same as picking none: theirs only.
    answer = bo.corpus(["alpha"]).ask("When does the alpha orchard harvest start?")
    assert all(citation.collection == "beta" for citation in answer.citations)
    assert [info.source for info in bo.reader("alpha").documents()] == ["beta.md"]
    ada = views.of(visitor("ada"))
    assert list(ada.names) == ["alpha", "beta"] and ada.writer("alpha") is None
    ed = views.of(visitor("ed"))
    assert list(ed.names) == ["alpha"] and ed.writer("alpha") is not None and ed.writer("beta") is None


def test_a_person_in_no_group_sees_nothing_and_no_login_sees_no_page(served: rag.Collections) -> None:
    views = views_for(served)
    nobody = views.of(visitor("no"))
    assert nobody.is_empty_handed and nobody.base.documents() == []
    with pytest.raises(NotLoggedIn, match="no collection"):
        nobody.corpus()
    with pytest.raises(NotLoggedIn, match="log in again"):
        views.of(visitor("a-stranger"))


def test_without_people_every_visitor_sees_everything(served: rag.Collections) -> None:
    everyone = Views(served.base("alpha"), served).of(None)
    assert list(everyone.names) == ["alpha", "beta"] and everyone.may_write("beta")
    assert {info.source for info in everyone.reader("beta").documents()} == {"beta.md"}


def test_only_people_in_an_admin_group_read_the_audit_trail(served: rag.Collections) -> None:
    served.trail.asked(YARD, ["beta"], "When are boats launched?", served.select(["beta"], YARD).ask("boats"))
    people = {"ed": EDITOR, "bo": YARD}
    views = Views(
        served.base("alpha"),
        served,
        lambda request: people.get(request.cookies.get("who", "")),
        frozenset({"editors"}),
    )
    admin = views.of(visitor("ed"))
    assert admin.is_admin and [(name, event.actor) for name, event in admin.audit_events().events] == [
        ("beta", "bo@example.org")
    ]
    assert admin.audit_events("someone-else").events == [] and admin.audit_events().unreadable == {}
    bo = views.of(visitor("bo"))
    assert not bo.is_admin and bo.audit_events().events == []


@pytest.mark.postgres
def test_the_audit_trail_names_a_collection_too_old_for_one_and_shows_the_others(
    tmp_path: Path, postgres_url: str
) -> None:
    from test_database_schema import format_1_index

    embedder = rag.HashingEmbedder(256)
    format_1_index(postgres_url)  # a PostgreSQL index of format 1 has no audit trail
    locations: dict[str, Path | str] = {**build_collections(tmp_path, embedder), "rivers": postgres_url}
    served = rag.open_collections(locations, embedder=embedder)
    try:
        served.trail.changed(YARD, "beta", "removed", {"source": "beta.md"})
        views = Views(served.base("alpha"), served, lambda request: EDITOR, frozenset({"editors"}))
        listing = views.of(visitor("ed")).audit_events()
        assert [(name, event.action) for name, event in listing.events] == [("beta", "removed")]
        assert list(listing.unreadable) == ["rivers"]
        message = listing.unreadable["rivers"]
        assert len(message.splitlines()) == 1 and "rag check --repair" in message
        page = render.audit_html(listing.events, listing.unreadable)
        assert "removed" in page and "rivers" in page and "rag check --repair" in page
    finally:
        served.close()
