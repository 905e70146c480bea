"""Storage backends: the interface the Retriever uses, and the store a setting names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Candidates, PassageStore

if TYPE_CHECKING:
    from ..embedding import ModelSource
    from ..settings import Settings

__all__ = ["Candidates", "PassageStore", "open_store"]


def open_store(settings: Settings, model: ModelSource) -> PassageStore:
    """The store for `settings`, bound to the embedding model `model` (its name and fingerprint): the embedded
    store in `settings.index_path` (the default; when that is the corpus folder's own `.qa-index` and the
    corpus folder is read-only, a per-user cache folder instead, `fallback_folder`), or a Milvus collection
    when `settings.store` is a `milvus://` address."""
    if settings.store != "embedded":
        from ..storeurl import MilvusAddress
        from .milvus import MilvusStore

        return MilvusStore(MilvusAddress.parse(settings.store), model, settings.min_words, settings.max_words,
                           index_name=settings.index_path.name)
    from .embedded import EmbeddedStore, fallback_folder

    fallback = fallback_folder(settings.corpus, settings.cache_dir) if settings.index_dir is None else None
    return EmbeddedStore(settings.index_path, model, settings.min_words, settings.max_words, fallback,
                         commit_every=settings.commit_every)
