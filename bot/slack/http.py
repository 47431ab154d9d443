"""HTTP mode: Bolt's WSGI adapter plus a health check, and a threaded server for `python app.py`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

SLACK_PATH = "/slack/events"
# Slack's payloads are a few KB (a full modal view is under 100 KB); anything over this is refused
# from its headers, before a byte of the body is read or its signature checked.
MAX_BODY_BYTES = 1024 * 1024
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_wsgi_app(app: App) -> WsgiApp:
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        refusal = _refuse_body(environ)
        if refusal is not None:
            start_response(refusal, [("Content-Type", "text/plain")])
            return [refusal.encode()]
        if "wsgi.input" in environ:
            environ["wsgi.input"] = _BoundedInput(environ["wsgi.input"], MAX_BODY_BYTES)
        return slack(environ, start_response)

    return application


def _refuse_body(environ: dict[str, Any]) -> str | None:
    """The status that refuses this request from its headers alone, or None to go on."""
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if not declared:
        # Bolt reads Content-Length bytes, so a body without one (chunked) would be read as
        # empty; refuse it plainly rather than let any layer read it without a bound.
        chunked = environ.get("HTTP_TRANSFER_ENCODING")
        return "411 Length Required" if chunked else None
    if not declared.isdigit():
        return "400 Bad Request"
    if int(declared) > MAX_BODY_BYTES:
        return "413 Content Too Large"
    return None


class _BoundedInput:
    """wsgi.input that yields at most `limit` bytes, whatever a reader asks for: under wsgiref
    it is the raw socket, which a careless read() would drain without end."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._stream.read(size) if size else b""
        self._left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._stream.readline(size) if size else b""
        self._left -= len(data)
        return data


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines can carry user text in query strings; gunicorn logs in production


def make_http_server(wsgi_app: WsgiApp, *, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    return make_server(host, port, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def serve_in_thread(server: WSGIServer) -> threading.Thread:
    # A short poll interval makes shutdown() quick (tests start and stop many servers).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="flipside-http", daemon=True
    )
    thread.start()
    return thread
