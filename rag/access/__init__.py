"""People, groups and permissions: who is asking (`Actor`), what they may read and change
(`AccessPolicy`, from an `--access` TOML file), the scope a reader's retrieval is confined to,
and OpenID Connect bearer tokens (`TokenVerifier`)."""

from rag.access.identity import Actor
from rag.access.policy import AccessPolicy, CollectionRule, DocumentRule, load_policy

__all__ = ["AccessPolicy", "Actor", "CollectionRule", "DocumentRule", "load_policy"]
