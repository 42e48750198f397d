"""State storage: one contract (``Store``), one backend per kind of database."""

from bot.store.base import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store"]
