"""APIMart's error body, as every simulated endpoint answers it."""

from __future__ import annotations

from starlette.responses import JSONResponse


def api_error(
    status: int, error_type: str, message: str, *, code: str | None = None, **headers: str
) -> JSONResponse:
    """APIMart's error body ``{"error": {"message", "type", "code"}}``; ``code`` defaults to the type."""
    body = {"error": {"message": message, "type": error_type, "code": code or error_type}}
    return JSONResponse(body, status_code=status, headers=headers or None)
