"""The MCP server at /mcp (streamable HTTP): tools search, ask and list_documents, same keys as HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings

from rag.serve import documents, queries
from rag.serve import feedback as given_feedback
from rag.serve.errors import APIError
from rag.serve.service import Service

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
INSTRUCTIONS = (
    "Verbatim answers from the user's documents with verbatim quotes. Every quote carries its "
    "collection, source and character offsets, checked against the stored text. Use `search` for "
    "passages, `ask` for a quoted answer, `list_documents` to see what is indexed, `feedback` to say "
    "whether an answer (by its id) helped and which quote was wrong."
)


def build_mcp(service: Service) -> MCPServer:
    """The MCP server whose tools answer from the caller's collections only."""
    server = MCPServer("verbatim", instructions=INSTRUCTIONS, log_level="WARNING")

    async def call(ctx: Context, function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        headers = ctx.headers or {}
        try:
            access = service.access(headers.get("authorization"))
            return await service.run(access, function, service.collections, access, *args)
        except APIError as error:
            raise ToolError(f"{error.message} (HTTP {error.status})") from error

    @server.tool()
    async def search(
        query: str, ctx: Context, collections: list[str] | None = None, k: int | None = None
    ) -> dict[str, Any]:
        """The passages most related to the query, each with collection, source, offsets and text."""
        body = {"query": query, "collections": collections, "k": k}
        return await call(ctx, queries.search, body)

    @server.tool()
    async def ask(question: str, ctx: Context, collections: list[str] | None = None) -> dict[str, Any]:
        """An answer made of verbatim quotes; each citation has collection, source, offsets and quote."""
        return await call(
            ctx, queries.ask, {"question": question, "collections": collections}, service.recent, "mcp"
        )

    @server.tool()
    async def feedback(
        answer_id: str,
        ctx: Context,
        rating: str | None = None,
        citation: int | None = None,
        flag: str | None = None,
        answer: str | None = None,
        source: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Feedback on an answer `ask` gave, by its `id` (answer_id): rating up or down; citation [n] flagged
        does_not_support or wrong_document; the right answer; words of the right source passage."""
        body = {
            "id": answer_id,
            "rating": rating,
            "citation": citation,
            "flag": flag,
            "answer": answer,
            "source": source,
            "comment": comment,
        }
        return await call(ctx, given_feedback.give, service.recent, body, "mcp")

    @server.tool()
    async def list_documents(ctx: Context, collections: list[str] | None = None) -> dict[str, Any]:
        """The documents of the collections this key may read (source, title, size, chunks)."""
        return await call(ctx, documents.list_documents, collections)

    return server


def mcp_endpoint(server: MCPServer) -> tuple[ASGIApp, Any]:
    """(the ASGI app answering at /mcp, the session manager whose run() must wrap the server's life)."""
    # Stateless: every request carries its own key, so no session outlives the caller's check.
    # Host and Origin are checked by the app's request guard, for /mcp as for every route, with
    # one allow-list (this SDK's own check would refuse names given with --allowed-host).
    server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    return StreamableHTTPASGIApp(manager), manager
