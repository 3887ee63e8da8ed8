"""The chat UI's hook into `rag serve --ui` (the `verbatim.serve` entry point `ui` in pyproject.toml)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import gradio as gr

import rag
from rag.access import Actor
from rag.ingest import UPLOADS_FOLDER
from rag.serve import UI_PATH
from ui import app as app_module
from ui import collections, security, server


def mount_chat_ui(api: Any, service: Any) -> None:
    """Mount the chat page at /ui on the API server.

    With an OpenID Connect client (--oidc-client-id), people log in through the provider and each
    sees only their groups' documents; else, with keys, only a key for every collection logs in.
    """
    served = service.collections
    first = served.base(served.names[0])
    keys = service.keys
    oidc = getattr(service, "oidc", None)
    people = oidc is not None and oidc.client_id
    if not people and keys is None and (service.tokens is not None or served.policy is not None):
        # Open to whoever reaches it, the page would show every document to everyone.
        raise rag.SettingsError(
            "the chat UI needs a login here: give --oidc-client-id and --oidc-client-secret (people log in "
            "through the provider and see their groups' documents), or --keys (enter /ui with a key that "
            "may change every collection)"
        )
    login = _person_login(api, service) if people else None
    config = app_module.AppConfig(
        uploads=first.folder / UPLOADS_FOLDER,
        max_upload_bytes=service.limits.max_upload_bytes,
        examples=(),
        collections=served,
        person_of=login.logins.person_of if login is not None else None,
        logout_url=login.logout_url if login is not None else "",
        admin_groups=frozenset(service.oidc.admin_groups) if login is not None else frozenset(),
    )
    page = app_module.build_app(first, config)
    options: dict[str, Any] = {}
    if login is not None:
        logins = login.logins

        def person_name(request: Any) -> str | None:
            actor = logins.person_of(request)
            return actor.name if actor is not None else None

        options["auth_dependency"] = person_name
    elif keys is not None:
        # The page shows, uploads to and removes from every collection, so it takes a key allowed all that.
        def may_do_everything(_user: str, key: str) -> bool:
            return collections.may_do_everything(keys.access_for(key), served.names)

        options["auth"] = security.ThrottledLogin(may_do_everything)
        options["auth_message"] = (
            "Log in with any user name and, as the password, an API key that may change every collection."
        )
        api.add_middleware(security.LoginClient)

    folders = [served.base(name).folder for name in served.names]
    gr.mount_gradio_app(
        api,
        page,
        path=UI_PATH,
        **options,
        **server.page_options(folders, service.limits.max_upload_bytes // (1024 * 1024)),
    )
    print(f"Chat UI at {UI_PATH}/", file=sys.stderr, flush=True)


def _person_login(api: Any, service: Any) -> Any:
    """The OpenID Connect login of the mounted page, installed on the API server."""
    from ui import login  # authlib: only for a page people log in to

    served = service.collections
    oidc = service.oidc
    if service.tokens is None or not oidc.client_secret:
        raise rag.SettingsError(
            "--oidc-client-id needs --oidc-issuer, --oidc-audience and --oidc-client-secret"
        )

    def readable(actor: Actor) -> Sequence[str]:
        # A person who may read nothing is still recorded, in every collection's trail.
        names = served.policy.readable(actor, served.names) if served.policy is not None else frozenset()
        return [name for name in served.names if name in names] or served.names

    provider = login.Provider(oidc.issuer, oidc.client_id, oidc.client_secret)
    person_login = login.OidcLogin(provider, service.tokens.actor, served.trail, readable, UI_PATH)
    person_login.install(api)
    return person_login
