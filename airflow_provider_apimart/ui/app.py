"""The APIMart plugin's FastAPI app, mounted by Airflow's API server at ``/apimart``.

Routes (every one behind Airflow's auth, see :mod:`~airflow_provider_apimart.ui.access`):

- ``GET /apimart/`` the APIMart page (navigation): recent generations, filters, spend, counts.
- ``GET /apimart/videos?dag_id=&run_id=[&task_id=&map_index=]`` the Videos tab of a run or task.
- ``GET /apimart/media?dag_id=&run_id=&task_id=&map_index=&n=`` a stored video, with Range.
- ``GET /apimart/api/generations`` the same list and figures as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from airflow_provider_apimart.ui import access, accounts, cards, media, pages
from airflow_provider_apimart.ui.generations import Outcome, TaskKey, read_generations
from airflow_provider_apimart.ui.listing import Listing, read_listing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from airflow_provider_apimart.ui.generations import Generation


def _session() -> Any:
    from airflow.api_fastapi.common.db.common import _get_session

    yield from _get_session()


SessionDep = Annotated[Any, Depends(_session)]
UserDep = Annotated[Any, Depends(access.user_dependency())]
DagReadable = Depends(access.dag_read_dependency())


def create_app() -> FastAPI:
    app = FastAPI(title="APIMart for Airflow", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse, name="overview")
    def overview(request: Request, user: UserDep, session: SessionDep, query: ListingDep) -> HTMLResponse:
        return HTMLResponse(pages.overview(request, _listing(user, session, query)))

    @app.get("/api/generations", name="generations")
    def generations(
        user: UserDep,
        session: SessionDep,
        query: ListingDep,
        page_size: Annotated[int, Query(ge=1, le=accounts.MAX_PAGE_SIZE)] = accounts.DEFAULT_PAGE_SIZE,
    ) -> JSONResponse:
        return JSONResponse(pages.listing_json(_listing(user, session, query, page_size)))

    @app.get("/videos", response_class=HTMLResponse, name="videos", dependencies=[DagReadable])
    def videos(
        request: Request,
        session: SessionDep,
        dag_id: str,
        run_id: str,
        task_id: str | None = None,
        map_index: str | None = None,
    ) -> HTMLResponse:
        index = _map_index(map_index) if task_id else None
        found = read_generations(session, [dag_id], run_id=run_id, task_id=task_id, map_index=index)
        media_url = str(request.url_for("media"))
        shown = sorted(found, key=lambda generation: (generation.key.task_id, generation.key.map_index))
        return HTMLResponse(
            pages.videos(request, dag_id, run_id, task_id, [cards.card(item, media_url) for item in shown])
        )

    @app.get("/media", name="media", dependencies=[DagReadable])
    def stream(
        request: Request,
        session: SessionDep,
        dag_id: str,
        run_id: str,
        task_id: str,
        n: Annotated[int, Query(ge=1)],
        map_index: int = -1,
    ) -> Response:
        key = TaskKey(dag_id, run_id, task_id, map_index)
        return _media_response(request, _one(session, key), n)

    return app


@dataclass(frozen=True)
class ListingQuery:
    """The APIMart page's filters, as the page and its JSON twin both take them."""

    dag_id: str | None = None
    model: str | None = None
    state: str | None = None
    since: str | None = None
    until: str | None = None
    page: int = 1


ListingDep = Annotated[ListingQuery, Depends()]


def _listing(
    user: Any, session: Session, query: ListingQuery, page_size: int = accounts.DEFAULT_PAGE_SIZE
) -> Listing:
    readable = access.readable_dag_ids(user, session)
    end = _day(query.until, "until")
    return read_listing(
        session,
        readable & {query.dag_id} if query.dag_id else readable,
        accounts.Filters(query.model or None, _outcome(query.state)),
        since=_day(query.since, "since"),
        until=end + timedelta(days=1) if end is not None else None,
        page=query.page,
        page_size=page_size,
        shown_filters={name: getattr(query, name) for name in ("dag_id", "model", "state", "since", "until")},
    )


def _one(session: Session, key: TaskKey) -> Generation:
    found = read_generations(
        session, [key.dag_id], run_id=key.run_id, task_id=key.task_id, map_index=key.map_index
    )
    if not found:
        raise HTTPException(404, "No APIMart generation is recorded for this task instance.")
    return found[0]


def _media_response(request: Request, generation: Generation, number: int) -> Response:
    try:
        video = media.recorded_video(generation, number)
    except media.MediaNotFoundError as refused:
        _log_refusal(generation, number, refused)
        raise HTTPException(404, "No recorded video answers this identifier.") from None
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{video.sha256}"',
        "Content-Disposition": f'inline; filename="{video.file_name}"',
        "X-Content-Type-Options": "nosniff",
    }
    try:
        wanted = media.byte_range(request.headers.get("range"), video.size)
    except media.RangeNotSatisfiableError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{video.size}"})
    if wanted is None:
        headers["Content-Length"] = str(video.size)
        return StreamingResponse(
            media.read_range(video.path, 0, video.size), 200, headers, video.content_type
        )
    headers["Content-Length"] = str(wanted.length)
    headers["Content-Range"] = wanted.content_range()
    return StreamingResponse(
        media.read_range(video.path, wanted.start, wanted.length), 206, headers, video.content_type
    )


def _log_refusal(generation: Generation, number: int, refused: Exception) -> None:
    import logging

    logging.getLogger(__name__).warning(
        "APIMart media refused for %s video %d: %s", generation.key, number, refused
    )


def _map_index(value: str | None) -> int:
    """The UI leaves ``{MAP_INDEX}`` as it is for a task that is not mapped: that means -1."""
    try:
        return int(value) if value is not None else -1
    except ValueError:
        return -1


def _outcome(state: str | None) -> Outcome | None:
    if not state:
        return None
    try:
        return Outcome(state)
    except ValueError:
        raise HTTPException(
            400, f"state={state!r} is not one of {', '.join(o.value for o in Outcome)}."
        ) from None


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise HTTPException(400, f"{name}={value!r} is not a date (YYYY-MM-DD).") from None
