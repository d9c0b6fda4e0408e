"""HTTP job server (Starlette on uvicorn). The spec is served at ``GET /openapi.json``.

Order systems (``Authorization: Bearer ftc_...``, a client token; each client sees only its own
orders): ``POST /orders``, ``GET /orders``, ``GET /orders/{id}``, ``GET /orders/{id}/events``,
``GET /status``.
Hubs (``Authorization: Bearer fth_...``, a hub token): ``POST /jobs/claim``,
``POST /jobs/{id}/heartbeat``, ``GET /jobs/{id}/bundle`` (sha256 as ETag, ``If-None-Match``),
``POST /jobs/{id}/status``.
Anyone: ``GET /health``, ``GET /signing-key``, ``GET /openapi.json``.

Errors are JSON ``{"error": message}`` with 400 (malformed), 401 (no or bad token), 404 (not
found, or not routed to this hub), 409 (lease lost, bad transition, order id reused), 413 (body
too large). A rejected request changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fabthread.errors import UserError
from fabthread.hub.openapi import openapi_spec
from fabthread.hub.service import HubService
from fabthread.hub.store import Conflict, NotFound

log = logging.getLogger("fabthread.hub.server")

MAX_BODY_BYTES = 256 * 1024


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length above the limit, before reading."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length":
                    try:
                        too_big = int(value) > self.max_bytes
                    except ValueError:
                        too_big = True
                    if too_big:
                        resp = _error(413, f"request body above {self.max_bytes} bytes")
                        await resp(scope, receive, send)
                        return
        await self.app(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request, max_bytes: int) -> Any:
    """The JSON body, counting bytes as they arrive (chunked uploads have no length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HttpError(413, f"request body above {max_bytes} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"body is not valid JSON: {exc}") from None


def _field(body: Any, name: str, kind: type, required: bool = True) -> Any:
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise HttpError(400, f"'{name}' must be a {kind.__name__}")
    return value


def create_app(service: HubService, max_body_bytes: int = MAX_BODY_BYTES) -> Any:
    """The ASGI app. ``service`` owns the store; the app closes it on shutdown."""
    store = service.store
    cfg = service.config

    def bearer(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError(401, "missing 'Authorization: Bearer <token>'")
        return token.strip()

    async def hub_of(request: Request) -> str:
        token = bearer(request)
        hub_id = store.cached_owner(token) if token.startswith("fth_") else None
        if hub_id is None:
            hub_id = await run_in_threadpool(store.hub_for_token, token)
        if hub_id is None:
            raise HttpError(401, "unknown or revoked hub token")
        return hub_id

    async def client_of(request: Request) -> str | None:
        """The order system's name; None when client auth is off (everything visible)."""
        if not cfg.client_auth:
            return None
        token = bearer(request)
        client = store.cached_owner(token) if token.startswith("ftc_") else None
        if client is None:
            client = await run_in_threadpool(store.client_for_token, token)
        if client is None:
            raise HttpError(401, "unknown or revoked client token")
        return client

    def lease_of(body: Any) -> float:
        value = body.get("lease_s") if isinstance(body, dict) else None
        if value is None:
            return cfg.lease_s
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HttpError(400, "'lease_s' must be a number")
        if not 1.0 <= value <= cfg.max_lease_s:
            raise HttpError(400, f"lease_s={value} is outside 1..{cfg.max_lease_s:g}")
        return float(value)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_spec())

    async def signing_key(request: Request) -> Response:
        return JSONResponse({"algorithm": "ed25519", "public_key": service.public_key})

    async def status(request: Request) -> Response:
        client = await client_of(request)  # the hubs are shared; the orders the client's own
        return JSONResponse(await run_in_threadpool(store.summary, 50, client))

    async def post_order(request: Request) -> Response:
        client = await client_of(request)
        body = await _json_body(request, max_body_bytes)
        created, view = await run_in_threadpool(service.submit, body, client or "")
        return JSONResponse(view, status_code=202 if created else 200)

    async def list_orders(request: Request) -> Response:
        client = await client_of(request)
        q = request.query_params
        try:
            limit = int(q.get("limit", "100"))
            before = float(q.get("before", "0"))
        except ValueError:
            raise HttpError(400, "'limit' must be an integer and 'before' a number") from None
        if not 1 <= limit <= 1000:
            raise HttpError(400, f"limit={limit} is outside 1..1000")
        rows = await run_in_threadpool(
            store.list_orders, client, q.get("status", ""), limit, before
        )
        for r in rows:
            r.pop("client", None)
        return JSONResponse({"orders": rows})

    async def get_order(request: Request) -> Response:
        client = await client_of(request)
        oid = request.path_params["order_id"]
        view = await run_in_threadpool(service.order_view, oid, client)
        if view is None:
            raise HttpError(404, f"order {oid} not found")
        return JSONResponse(view)

    async def order_events(request: Request) -> Response:
        client = await client_of(request)
        oid = request.path_params["order_id"]
        if await run_in_threadpool(store.get_order, oid, client) is None:
            raise HttpError(404, f"order {oid} not found")
        return JSONResponse({"order_id": oid, "events": await run_in_threadpool(store.events, oid)})

    async def claim(request: Request) -> Response:
        hub_id = await hub_of(request)
        body = await _json_body(request, max_body_bytes)
        agent = _field(body, "agent", str, required=False) or "agent"
        machine = _field(body, "machine", str, required=False) or ""
        lease_s = lease_of(body)
        job = await run_in_threadpool(store.claim, hub_id, agent[:64], lease_s, machine)
        if job is None:
            return Response(status_code=204)
        return JSONResponse(
            {
                "job_id": job["job_id"],
                "order_id": job["order_id"],
                "hub": hub_id,
                "machine": job["machine"],
                "quantity": job["quantity"],
                "attempt": job["attempts"],
                "lease_id": job["lease_id"],
                "lease_s": lease_s,
                "lease_expires": job["lease_expires"],
                "bundle": {
                    "url": f"/jobs/{job['job_id']}/bundle",
                    "sha256": job["bundle_sha256"],
                    "size": job["bundle_size"],
                    "signature": job["signature"],
                },
            }
        )

    async def heartbeat(request: Request) -> Response:
        hub_id = await hub_of(request)
        body = await _json_body(request, max_body_bytes)
        lease_id = _field(body, "lease_id", str)
        lease_s = lease_of(body)
        job = await run_in_threadpool(
            store.heartbeat, hub_id, request.path_params["job_id"], lease_id, lease_s
        )
        return JSONResponse({"job_id": job["job_id"], "lease_expires": job["lease_expires"]})

    async def report(request: Request) -> Response:
        hub_id = await hub_of(request)
        body = await _json_body(request, max_body_bytes)
        lease_id = _field(body, "lease_id", str)
        new = _field(body, "status", str)
        reason = _field(body, "reason", str, required=False) or ""
        machine = _field(body, "machine", str, required=False) or ""
        job = await run_in_threadpool(
            store.report,
            hub_id,
            request.path_params["job_id"],
            lease_id,
            new,
            reason[:500],
            machine[:64],
        )
        return JSONResponse({"job_id": job["job_id"], "status": job["status"]})

    async def bundle(request: Request) -> Response:
        hub_id = await hub_of(request)
        job = await run_in_threadpool(store.job_for_hub, hub_id, request.path_params["job_id"])
        if job["lease_id"] is None:
            raise HttpError(409, f"job {job['job_id']} is not leased")
        etag = f'"{job["bundle_sha256"]}"'
        headers = {"ETag": etag, "X-Fabthread-Signature": job["signature"] or ""}
        inm = request.headers.get("if-none-match", "")
        if etag in [t.strip() for t in inm.split(",")]:
            return Response(status_code=304, headers=headers)
        data = await run_in_threadpool(Path(job["bundle_path"]).read_bytes)
        return Response(data, media_type="application/zip", headers=headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HttpError):
            return _error(exc.status, str(exc))
        if isinstance(exc, NotFound):
            return _error(404, str(exc))
        if isinstance(exc, Conflict):
            return _error(409, str(exc))
        return _error(400, str(exc))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(service.resume)
        sweeper = asyncio.create_task(_sweep(service))
        try:
            yield
        finally:
            sweeper.cancel()
            await run_in_threadpool(service.close)

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/openapi.json", openapi),
            Route("/signing-key", signing_key),
            Route("/status", status),
            Route("/orders", post_order, methods=["POST"]),
            Route("/orders", list_orders, methods=["GET"]),
            Route("/orders/{order_id}", get_order),
            Route("/orders/{order_id}/events", order_events),
            Route("/jobs/claim", claim, methods=["POST"]),
            Route("/jobs/{job_id}/heartbeat", heartbeat, methods=["POST"]),
            Route("/jobs/{job_id}/status", report, methods=["POST"]),
            Route("/jobs/{job_id}/bundle", bundle),
        ],
        exception_handlers={HttpError: http_error, UserError: http_error},
        lifespan=lifespan,
    )
    return BodyLimit(app, max_body_bytes)


async def _sweep(service: HubService) -> None:
    """Return expired leases to the queue even when nobody claims (status stays honest)."""
    period = max(0.5, min(10.0, service.config.lease_s / 2))
    while True:
        await asyncio.sleep(period)
        try:
            await run_in_threadpool(service.store.requeue_expired)
        except Exception:  # noqa: BLE001 - keep sweeping; a locked db is retried next round
            log.exception("lease sweep failed")


class ServerThread:
    """Run an app on uvicorn in a thread on 127.0.0.1 and a free port (tests, benchmarks)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ServerThread:
        self.thread.start()
        import time

        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("server thread died while starting")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def serve(service: HubService, host: str, port: int, max_body_bytes: int = MAX_BODY_BYTES) -> None:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    uvicorn.run(
        create_app(service, max_body_bytes),
        host=host,
        port=port,
        log_level="info",
        timeout_keep_alive=30,
    )
