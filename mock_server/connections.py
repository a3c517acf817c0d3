"""The HTTP connection the mock serves on: aiohttp's own, with a deadline for each request's
headers (slow or silent clients cannot hold connections open), the idle limit of kept-alive
connections, and the HTTP parser's refusals (a request line or header too long, bytes HTTP does
not allow, an unknown method) answered as the API words errors, not as plain text."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from .domain.errors import BadRequest, MockError, RequestTimeout
from .middlewares import error_response

# The start of a request line: its method and target (the namespace prefix, if any, left out).
_TARGET = re.compile(rb"^\s*\S+\s+(?:/_ns/[^/\s]*)?(/\S*)")


def _path_of(head: bytes) -> str:
    """The path a (possibly broken) request line names, enough to tell the vendor; "/" if none."""
    found = _TARGET.match(head)
    return found.group(1).split(b"?", 1)[0].decode("latin-1") if found else "/"


def parser_refusal(exc: BaseException | None, message: str | None) -> MockError:
    """What the client is told when aiohttp's parser refuses a request."""
    if isinstance(exc, LineTooLong):
        detail = ("The request line or a header is longer than the server reads (8,190 bytes): "
                  "send long filters in fewer parameters.")
    elif isinstance(exc, BadHttpMethod):
        detail = "The request's method is not an HTTP method this server knows."
    else:
        text = (exc.message if isinstance(exc, HttpProcessingError) else message) or ""
        first = str(text).strip().splitlines()[0].rstrip(":") if str(text).strip() else ""
        detail = f"The request is not valid HTTP: {first or 'malformed'}."
    return BadRequest(detail)  # aiohttp's parser refuses with 400 alone


class Connection(RequestHandler):
    """One client connection (aiohttp's handler, plus a deadline for request headers)."""

    def __init__(self, manager: Any, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._head = b""  # the first bytes of the request being received
        self._last_head = b""  # those of the latest complete (or refused) request

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing is dropped too

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        parsed = self._request_count
        idle = not self._request_in_progress and not self._messages  # no request under way
        if idle and not self._head:
            self._head = bytes(data[:256])
        super().data_received(data)
        if self._request_count != parsed:  # a whole request head arrived (or was refused)
            self._last_head, self._head = self._head, b""
            self._disarm()
        elif idle and self._deadline is None:
            self._arm()  # a new request began: its headers have header_timeout to arrive

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:
        if status >= 500:  # a failure of the server itself: logged as aiohttp does
            self.log_exception("Error handling request", exc_info=exc)
            err = MockError("The server failed to answer this request.")
        else:
            self.logger.debug("refused a malformed request: %s", message or exc)
            err = parser_refusal(exc, message)
        if request.writer.output_size > 0:
            raise ConnectionError("the response is under way: no error can follow it")
        resp = error_response(err, _path_of(self._last_head or self._head))
        resp.force_close()
        return resp

    # ---- the header deadline ----------------------------------------------------------------

    def _arm(self) -> None:
        self._deadline = self._loop.call_later(self._header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._head:  # a request began and its headers never came: say so, then close
            resp = error_response(RequestTimeout(
                f"The request's headers did not arrive within {self._header_timeout:g} s "
                f"(header_timeout)."), _path_of(self._head))
            body = bytes(resp.body) if isinstance(resp.body, bytes) else b""
            transport.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Type: "
                            + (resp.content_type or "application/json").encode()
                            + b"\r\nConnection: close\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.force_close()
        transport.close()


class GuardedServer(web.Server):
    """aiohttp's low-level server, making `Connection`s."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return Connection(self, loop=self._loop, header_timeout=self._header_timeout,
                          **self._kwargs)


class Runner(web.AppRunner):
    """An AppRunner whose connections have a header deadline and an idle limit."""

    def __init__(self, app: web.Application, *, header_timeout: float, idle_timeout: float,
                 **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=idle_timeout, **kwargs)
        self._header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return GuardedServer(made.request_handler, request_factory=made.request_factory,
                             handler_cancellation=made.handler_cancellation,
                             loop=made._loop, header_timeout=self._header_timeout,
                             **made._kwargs)
