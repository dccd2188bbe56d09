"""A local HTTP mirror for download tests: serves a folder with Range support (http.server has none) and
can drop its first full reply partway, as a connection that dies mid-download."""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass
class Mirror:
    url: str
    cut_first: bool = True  # the next full reply stops after `cut_fraction` of the file
    cut_fraction: float = 0.5
    min_cut_size: int = 0  # smaller files are always served whole


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    mirror: Mirror

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        mirror = self.mirror
        if mirror.cut_first and start == 0 and len(data) > mirror.min_cut_size:
            mirror.cut_first = False
            self.wfile.write(body[: int(len(body) * mirror.cut_fraction)])
            return
        self.wfile.write(body)


@contextmanager
def serve_folder(folder: Path, cut_fraction: float = 0.5, min_cut_size: int = 0) -> Iterator[Mirror]:
    """Serve `folder` on 127.0.0.1 until the block ends."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: None)
    mirror = Mirror(f"http://127.0.0.1:{server.server_address[1]}", True, cut_fraction, min_cut_size)
    handler = type("Handler", (_RangeHandler,), {"mirror": mirror})
    server.RequestHandlerClass = functools.partial(handler, directory=str(folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
