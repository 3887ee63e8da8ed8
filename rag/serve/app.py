"""The FastAPI application: every HTTP route, the MCP endpoint, limits, and errors in OpenAI's shape.

The route logic lives in framework-free modules (chat, queries, documents); this module only
reads requests, resolves the caller's access once per request (`Caller`), applies the work
limits, and writes responses.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException

from rag.errors import RagError
from rag.ingest.uploads import MAX_FILES_PER_UPLOAD
from rag.serve import chat, documents, feedback, queries
from rag.serve.errors import APIError, error_body, from_rag_error
from rag.serve.guard import RequestGuard
from rag.serve.keys import Access
from rag.serve.limits import Hold
from rag.serve.mcp import build_mcp, mcp_endpoint
from rag.serve.service import Service

UI_PATH = "/ui"
# Room for multipart framing around the uploaded bytes themselves.
UPLOAD_OVERHEAD_BYTES = 1024 * 1024
# Every API answer is data, never a page: nothing in it may run or be sniffed as HTML.
API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
Mount = Callable[[FastAPI, Service], Any]
# Streams whose client went away, closing once their running step is done.
_STOPPING: set[asyncio.Future[None]] = set()


async def _caller(request: Request) -> Access:
    """The caller's access, resolved once per request from its key (401 when refused)."""
    service: Service = request.app.state.service
    access = service.access(request.headers.get("authorization"))
    request.state.actor = access.actor.name  # named in the audit trail if the request is refused
    return access


# What every keyed route is handed: the Access of whoever is calling.
Caller = Annotated[Access, Depends(_caller)]


def create_app(service: Service, guard: RequestGuard | None = None, mount: Mount | None = None) -> FastAPI:
    """The whole server; `mount(app, service)` may add more (the chat UI mounts itself under /ui)."""
    mcp_app, mcp_sessions = mcp_endpoint(build_mcp(service))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp_sessions.run():
            yield
        service.collections.close()

    app = FastAPI(title="Verbatim", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.service = service
    _add_error_handlers(app)
    _add_routes(app, service)
    guarded_mcp: Any = _GuardedMCP(mcp_app, service)  # an ASGI app, which add_route accepts as it is
    # No GET: a stateless server's event stream could never carry a message, only hold a connection.
    app.add_route("/mcp", guarded_mcp, methods=["POST", "DELETE"])
    if mount is not None:
        mount(app, service)
    app.add_middleware(_Limits, service=service)
    # Outermost, so that no route, mount or limit sees a request the guard refuses.
    app.add_middleware(_Guard, guard=guard or RequestGuard.for_address("127.0.0.1"))
    return app


class _SafeJSON(JSONResponse):
    """JSON whose text may echo a lone surrogate from the request: escaped, never a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def _json(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return _SafeJSON(payload, status, headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, error: APIError) -> JSONResponse:
        if error.status in (401, 403) or error.code == "model_not_found":
            actor = getattr(request.state, "actor", "anonymous")
            service: Service = request.app.state.service
            await asyncio.to_thread(
                service.collections.trail.refused, actor, f"{error.status} {error.code}", request.url.path
            )
        return _json(error.body(), error.status, error.headers)

    @app.exception_handler(RagError)
    async def rag_error(_: Request, error: RagError) -> JSONResponse:
        converted = from_rag_error(error)
        return _json(converted.body(), converted.status, converted.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = (
            f"no route {request.method} {request.url.path}"
            if error.status_code in (404, 405)
            else str(error.detail)
        )
        return _json(error_body(error.status_code, message), error.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        return _json(error_body(400, f"malformed request: {error.errors()[:1]}"), 400)

    @app.exception_handler(Exception)
    async def crash(_: Request, error: Exception) -> JSONResponse:
        return _json(error_body(500, f"internal error ({type(error).__name__}); see the server log"), 500)


async def _body(request: Request) -> object:
    # A form or text/plain body is what a page of another site can send without asking first.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise APIError(
            415, "send the body as JSON, with Content-Type: application/json", "unsupported_media_type"
        )
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
        raise APIError(400, "the request body is not valid JSON", "invalid_json") from None


def _add_routes(app: FastAPI, service: Service) -> None:
    collections = service.collections

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return _json({"status": "ok", "collections": len(collections.names)})

    @app.get("/v1/models")
    async def models(access: Caller) -> JSONResponse:
        return _json(chat.list_models(collections, access))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request, access: Caller) -> Any:
        parsed = chat.parse_chat_request(await _body(request), access, collections.names)
        if parsed.stream:
            return await _stream(service, access, chat.completion_chunks(collections, parsed, service.recent))
        return _json(await service.run(access, chat.completion, collections, parsed, service.recent))

    @app.post("/v1/search")
    async def search(request: Request, access: Caller) -> JSONResponse:
        return _json(await service.run(access, queries.search, collections, access, await _body(request)))

    @app.post("/v1/ask")
    async def ask(request: Request, access: Caller) -> JSONResponse:
        body = await _body(request)
        return _json(await service.run(access, queries.ask, collections, access, body, service.recent))

    @app.post("/v1/feedback")
    async def give_feedback(request: Request, access: Caller) -> JSONResponse:
        body = await _body(request)
        return _json(await service.run(access, feedback.give, collections, access, service.recent, body))

    @app.get("/v1/stats")
    async def stats(access: Caller) -> JSONResponse:
        return _json(await service.run(access, queries.stats, collections, access))

    @app.get("/v1/documents")
    async def list_documents(access: Caller, collection: str | None = None) -> JSONResponse:
        requested = None if collection is None else collection.split(",")
        return _json(await service.run(access, documents.list_documents, collections, access, requested))

    @app.get("/v1/sources")
    async def list_sources(access: Caller, collection: str | None = None) -> JSONResponse:
        requested = None if collection is None else collection.split(",")
        return _json(await service.run(access, documents.list_sources, collections, access, requested))

    @app.post("/v1/documents")
    async def upload(request: Request, access: Caller) -> JSONResponse:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise APIError(
                415, "send the files as multipart/form-data `file` fields", "unsupported_media_type"
            )
        form = await request.form(max_files=MAX_FILES_PER_UPLOAD * 2, max_fields=20)
        folder = documents.spool_folder()
        try:
            files = []
            for number, item in enumerate(form.getlist("file")):
                if isinstance(item, str):
                    raise APIError(400, "`file` fields must be files", "invalid_request", "file")
                spooled = folder / str(number)
                with spooled.open("wb") as target:
                    shutil.copyfileobj(item.file, target)
                files.append((item.filename or "", spooled))
            requested = form.get("collection")
            name = requested if isinstance(requested, str) else None
            limit = service.limits.max_upload_bytes
            result = await service.run(
                access, documents.upload, collections, access, name, files, limit, write=True
            )
        finally:
            await form.close()
            shutil.rmtree(folder, ignore_errors=True)
        return _json(result)

    @app.get("/v1/documents/{document_id}/pages/{page:int}.png")
    async def page_image(
        access: Caller,
        document_id: str,
        page: int,
        highlight: str | None = None,
        width: str | None = None,
        collection: str | None = None,
        source: str | None = None,
    ) -> Response:
        requested = None if collection is None else collection.split(",")
        query = {"highlight": highlight, "width": width, "source": source}
        image = await service.run(
            access, documents.page_image, collections, access, requested, document_id, page, query
        )
        return Response(image, media_type="image/png")

    @app.put("/v1/documents/{source:path}/readers")
    async def set_readers(
        request: Request, access: Caller, source: str, collection: str | None = None
    ) -> JSONResponse:
        body = await _body(request)
        return _json(
            await service.run(
                access, documents.set_readers, collections, access, collection, source, body, write=True
            )
        )

    @app.delete("/v1/documents/{source:path}")
    async def remove(access: Caller, source: str, collection: str | None = None) -> JSONResponse:
        return _json(
            await service.run(access, documents.remove, collections, access, collection, source, write=True)
        )


class _Steps:
    """A blocking iterator advanced one step at a time in a worker thread."""

    def __init__(self, chunks: Generator[Any, None, None]) -> None:
        self.chunks = chunks
        self.running: asyncio.Future[Any] | None = None

    async def next(self) -> Any:
        """The next item, or None at the end; a cancelled caller leaves the step running."""
        self.running = asyncio.ensure_future(asyncio.to_thread(next, self.chunks, None))
        return await asyncio.shield(self.running)

    def stop(self) -> asyncio.Future[None]:
        """Close the iterator once the running step has finished (a step cannot be cut short)."""
        stopping = asyncio.ensure_future(self._stop())
        _STOPPING.add(stopping)  # the loop keeps only a weak reference to a task
        stopping.add_done_callback(_STOPPING.discard)
        return stopping

    async def _stop(self) -> None:
        if self.running is not None:
            await asyncio.wait([self.running])
            if not self.running.cancelled():
                self.running.exception()  # seen: a caller gone away is not told of it
        await asyncio.to_thread(self.chunks.close)


class _HeldStream(StreamingResponse):
    """Server-sent events that give their worker slot back only when their work has stopped."""

    def __init__(self, events: AsyncIterator[str], slot: AsyncExitStack, hold: Hold, steps: _Steps) -> None:
        super().__init__(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self.slot = slot
        self.hold = hold
        self.steps = steps

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Released here, not in the generator: a client gone before the first byte never starts it.
        # A client gone mid-answer leaves a step running in a thread: the slot waits for it.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hold.until(self.steps.stop())
            await self.slot.aclose()


async def _stream(service: Service, access: Access, chunks: Generator[Any, None, None]) -> StreamingResponse:
    """Server-sent events of the chunks, holding a worker slot until the last one is sent."""
    slot = AsyncExitStack()
    # A 429/503 is raised before any byte is sent.
    hold = await slot.enter_async_context(service.gate.slot(access.holder))
    steps = _Steps(chunks)

    async def events() -> AsyncIterator[str]:
        try:
            while True:
                chunk = await steps.next()
                if chunk is None:
                    break
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"
        except RagError as error:
            refusal = from_rag_error(error)
            refusal.message = service.collections.without_folders(refusal.message)
            yield f"data: {json.dumps(refusal.body())}\n\n"

    return _HeldStream(events(), slot, hold, steps)


class _GuardedMCP:
    """The MCP endpoint behind the same key check as the HTTP routes (the tools check it again)."""

    def __init__(self, mcp_app: Any, service: Service) -> None:
        self.mcp_app = mcp_app
        self.service = service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        try:
            self.service.access(headers.get("authorization"))
        except APIError as error:
            # Refused here, the request never reaches the app's handlers: its audit is written here.
            trail = self.service.collections.trail
            await asyncio.to_thread(trail.refused, "anonymous", f"{error.status} {error.code}", "/mcp")
            await JSONResponse(error.body(), error.status, error.headers)(scope, receive, send)
            return
        await self.mcp_app(scope, receive, send)


class _Guard:
    """ASGI middleware: the request guard (Host allow-list, browser origin) before anything else."""

    def __init__(self, app: Any, guard: RequestGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
            refusal = self.guard.refusal(scope.get("method", "GET"), headers)
            if refusal is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await _json(refusal.body(), refusal.status, refusal.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class _Limits:
    """ASGI middleware: request size limits, and headers that keep API answers inert."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(UI_PATH):
            await self.app(
                scope, receive, send
            )  # the chat UI limits its own uploads and sets its own headers
            return
        limits = self.service.limits
        is_upload = path == "/v1/documents" and scope["method"] == "POST"
        limit = limits.max_upload_bytes + UPLOAD_OVERHEAD_BYTES if is_upload else limits.max_json_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        async def send_with_headers(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *API_HEADERS]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send_with_headers)


def _too_large(limit: int) -> JSONResponse:
    message = f"the request body is over the {limit // (1024 * 1024)} MB limit"
    return JSONResponse(error_body(413, message, "request_too_large"), 413)
