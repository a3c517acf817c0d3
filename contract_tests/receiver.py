"""A webhook receiver: an HTTP server in a thread that keeps every POST as it arrived (the raw
body, for the signature), and answers `status` (or first fails `failing` times), after `delay`
real seconds."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Arrived:
    """One POST as the receiver got it."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Receiver:
    """Listens on `host`:`port` (0: a free one); `url(path)` is where to point a webhook."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.got: list[Arrived] = []
        self.status, self.failing, self.fail_status = 200, 0, 500
        self.delay = 0.0  # real seconds before answering (a slow receiver)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.got.append(Arrived(self.path, {k.lower(): v for k, v in
                                                            self.headers.items()}, body))
                    status = receiver.status
                    if receiver.failing:
                        receiver.failing -= 1
                        status = receiver.fail_status
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = host, int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="webhook receiver")
        self.thread.start()

    def url(self, path: str = "/hooks") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def arrived(self, path: str | None = None) -> list[Arrived]:
        """What arrived (at `path` only, if given), in order."""
        with self._lock:
            return [a for a in self.got if path is None or a.path == path]

    def topics(self) -> list[str]:
        """The X-CommerceLayer-Topic of each POST, in order."""
        return [a.headers.get("x-commercelayer-topic", "") for a in self.arrived()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
