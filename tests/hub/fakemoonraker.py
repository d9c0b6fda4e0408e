"""A small fake Moonraker (Klipper's API server) for tests: the endpoints ``MoonrakerHost`` uses.

``POST /server/files/upload`` (multipart: ``file``, ``root``, ``print``) stores the file and,
with ``print=true``, starts a simulated print; ``GET /printer/objects/query?print_stats``
reports it the way Moonraker does (``standby`` -> ``printing`` -> ``complete``, or ``error``
with a message). The print advances ``lines_per_poll`` G-code lines per status query, so tests
are deterministic and need no sleeps. Shapes follow the Moonraker API docs
(https://moonraker.readthedocs.io/en/latest/web_api/).
"""

from __future__ import annotations

import email.parser
import email.policy
import threading
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeKlipper:
    """What the fake printer holds. ``fail_after_lines`` > 0 raises a Klipper error there;
    ``api_key`` "" accepts any request."""

    api_key: str = ""
    lines_per_poll: int = 5
    fail_after_lines: int = 0
    fail_message: str = "Move out of range: 400.000 10.000 0.200 [1.000]"
    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[dict[str, str]] = field(default_factory=list)
    state: str = "standby"
    filename: str = ""
    message: str = ""
    done_lines: int = 0
    total_lines: int = 0
    polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, name: str) -> None:
        self.filename, self.state, self.message = name, "printing", ""
        self.done_lines = 0
        self.total_lines = self.files[name].count(b"\n")

    def advance(self) -> None:
        if self.state != "printing":
            return
        self.done_lines = min(self.total_lines, self.done_lines + self.lines_per_poll)
        if self.fail_after_lines and self.done_lines >= self.fail_after_lines:
            self.state, self.message = "error", self.fail_message
        elif self.done_lines >= self.total_lines:
            self.state = "complete"


def _error(status: int, message: str) -> JSONResponse:
    # Moonraker's error envelope
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data -> {field: (filename, bytes)} with the stdlib email parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    out: dict[str, tuple[str | None, bytes]] = {}
    if not msg.is_multipart():
        return out
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            out[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return out


def create_fake_moonraker(klipper: FakeKlipper) -> Starlette:
    def authorized(request: Request) -> bool:
        return not klipper.api_key or request.headers.get("x-api-key") == klipper.api_key

    async def upload(request: Request) -> JSONResponse:
        if not authorized(request):
            return _error(401, "Unauthorized")
        form = _form(request.headers.get("content-type", ""), await request.body())
        if "file" not in form or not form["file"][0]:
            return _error(400, "No file name specified in upload form")
        name, data = form["file"]
        root = form.get("root", (None, b"gcodes"))[1].decode()
        want_print = form.get("print", (None, b"false"))[1].decode().lower() == "true"
        if root != "gcodes":
            return _error(400, f"Root {root} not available")
        with klipper.lock:
            klipper.uploads.append({"name": str(name), "root": root, "print": str(want_print)})
            klipper.files[str(name)] = data
            started = False
            if want_print:
                if klipper.state == "printing":
                    return _error(409, "Printer is busy")  # no job queue in this fake
                klipper.start(str(name))
                started = True
        return JSONResponse(
            {
                "result": {
                    "item": {"path": name, "root": root},
                    "print_started": started,
                    "print_queued": False,
                    "action": "create_file",
                }
            },
            status_code=201,
        )

    async def query(request: Request) -> JSONResponse:
        if not authorized(request):
            return _error(401, "Unauthorized")
        if "print_stats" not in request.query_params:
            return JSONResponse({"result": {"eventtime": 1.0, "status": {}}})
        with klipper.lock:
            klipper.polls += 1
            klipper.advance()
            stats = {
                "filename": klipper.filename,
                "state": klipper.state,
                "message": klipper.message,
                "total_duration": float(klipper.done_lines),
                "print_duration": float(klipper.done_lines),
                "filament_used": 0.0,
            }
        return JSONResponse({"result": {"eventtime": 1.0, "status": {"print_stats": stats}}})

    return Starlette(
        routes=[
            Route("/server/files/upload", upload, methods=["POST"]),
            Route("/printer/objects/query", query),
        ]
    )
