"""Hooks: ApimartHook talks HTTP to APIMart."""
