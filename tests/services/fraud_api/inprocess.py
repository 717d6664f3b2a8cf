"""Run the ASGI app in-process, lifespan included, behind a synchronous httpx-style client.

Starlette's TestClient now wants the separate `httpx2` package; this does the same job with the
plain httpx already installed: an event loop in a background thread (an anyio blocking portal)
runs the lifespan once and serves requests sent through httpx's ASGI transport. The lifespan's
state is put into each request's scope, as uvicorn does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send


class InProcessClient:
    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal = portal
        self._client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # Thread-safe: each call is scheduled onto the portal's loop, so calls from several
        # threads really run concurrently inside the app.
        return self._portal.call(lambda: self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@contextlib.contextmanager
def serve_in_process(app: Starlette) -> Iterator[InProcessClient]:
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan as state:

            async def app_with_state(scope: Scope, receive: Receive, send: Send) -> None:
                await app({**scope, "state": dict(state or {})}, receive, send)

            async def open_client() -> httpx.AsyncClient:
                return httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app_with_state), base_url="http://fraud-api.test"
                )

            client = portal.call(open_client)
            try:
                yield InProcessClient(portal, client)
            finally:
                portal.call(client.aclose)
