"""Hooks: ApimartHook talks HTTP to APIMart."""

from __future__ import annotations

#: The connection every operator, sensor and hook uses unless told otherwise. Here, not on the hook
#: class, so a DAG parse reads it without importing the HTTP client code.
DEFAULT_CONN_ID = "apimart_default"
