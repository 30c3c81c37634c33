"""Opening a page in Debian's headless Chromium, served from a local folder, and recording everything
that went wrong, so tests see the HTML report as a reader's browser renders it rather than as a string.

Playwright drives the system's Chromium (never its own browser download). The flags keep Chromium off
the network: without them it calls Google's hosts, which this closed network refuses.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from playwright.sync_api import Request, Route, sync_playwright

NOT_FOUND = "no Chromium here: install Debian's chromium package (.ci/run does)"
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOST = "127.0.0.1"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
_IMAGES = "[...document.images].map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0}))"


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def chromium() -> str:
    """The Chromium to drive, or skip the test (fail it when ARCHBENCH_REQUIRE_BROWSER=1, as in CI).

    A non-empty ARCHBENCH_CHROMIUM decides alone: when it names no executable file the browser counts
    as not found, with no fall back to /usr/bin/chromium, so the variable can hide the browser and a
    typo never silently tests another one.
    """
    chosen = os.environ.get("ARCHBENCH_CHROMIUM")
    if chosen:
        found = chosen if _executable(chosen) else None
        reason = f"{NOT_FOUND}; ARCHBENCH_CHROMIUM={chosen} is not an executable file"
    else:
        found = str(DEBIAN_CHROMIUM) if _executable(str(DEBIAN_CHROMIUM)) else shutil.which("chromium")
        reason = NOT_FOUND
    if found:
        return found
    if os.environ.get("ARCHBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are checked in the browser; a log line per file only clutters pytest's output."""


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on a free port of 127.0.0.1 while the block runs; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer((LOCAL_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class PageCheck:
    """What a browser saw when it loaded one page; every list empty means nothing went wrong."""

    status: int | None
    title: str
    headings: int
    images: int
    broken_images: list[str]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)


def _is_local(url: str) -> bool:
    return url.startswith("data:") or urlsplit(url).hostname == LOCAL_HOST


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {process.name()}"
    except psutil.NoSuchProcess:
        return f"{process.pid} (exited)"


def open_page(executable: str, url: str, screenshot: Path, timeout_ms: int = 30_000) -> PageCheck:
    """Load `url` in the headless Chromium at `executable`, record its errors, failures, images and
    requests, save a full-page screenshot, then close everything and list any process of Playwright's
    (its driver, Chromium and Chromium's helpers) still alive: those are watched by pid, as they would
    outlive the driver as orphans of init, no longer children of this process."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    console_errors: list[str] = []
    page_errors: list[str] = []
    failed: list[str] = []
    foreign: list[str] = []

    def keep_local(route: Route) -> None:  # nothing may leave the machine, even if the page asks
        if _is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    def on_request(request: Request) -> None:
        if not _is_local(request.url):
            foreign.append(request.url)

    with tempfile.TemporaryDirectory(prefix="archbench-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=ARGS, timeout=timeout_ms)
        try:
            context.route("**/*", keep_local)
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("requestfailed", lambda r: failed.append(f"{r.url[:80]}: {r.failure}"))
            page.on("response", lambda r: failed.append(f"{r.url[:80]}: HTTP {r.status}")
                    if r.status >= 400 else None)
            page.on("request", on_request)
            response = page.goto(url, wait_until="load", timeout=timeout_ms)
            images = page.evaluate(_IMAGES)
            page.screenshot(path=str(screenshot), full_page=True)
            check = PageCheck(
                status=response.status if response else None, title=page.title(),
                headings=page.locator("h1").count(), images=len(images),
                broken_images=[i["src"] for i in images if not i["ok"]])
        finally:
            spawned = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
            context.close()
    _, alive = psutil.wait_procs(spawned, timeout=5)
    check.console_errors, check.page_errors = console_errors, page_errors
    check.failed_requests, check.foreign_requests = failed, foreign
    check.survivors = [_describe(p) for p in alive]
    return check
