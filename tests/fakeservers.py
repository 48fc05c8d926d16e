"""Fake servers on 127.0.0.1 (no internet) and their recorded answers, shared by the fetch,
Smart Village and Daten-panel tests.

``FakeOverpass`` answers with Overpass JSON made from the synthetic OSM fixture
(``osmfixtures``); ``FakeServer`` is a Smart Village GraphQL endpoint answering
``fixtures/smart_village_answer.json`` (synthetic entries). Both can be scripted to fail
or be slow first.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from osmfixtures import overpass_json

# ---- Overpass --------------------------------------------------------------------------

FULL = overpass_json()


def _municipality_answer() -> dict:
    """What Overpass returns for the municipality query: the relations and their members."""
    rels = [e for e in FULL["elements"] if e["type"] == "relation"
            and e["tags"].get("admin_level") == "8"
            and e["tags"].get("de:amtlicher_gemeindeschluessel") in ("12069020", "12069665")]
    way_ids = {m["ref"] for r in rels for m in r["members"]}
    ways = [e for e in FULL["elements"] if e["type"] == "way" and e["id"] in way_ids]
    node_ids = {n for w in ways for n in w["nodes"]}
    nodes = [e for e in FULL["elements"] if e["type"] == "node" and e["id"] in node_ids]
    return {**FULL, "elements": nodes + ways + rels}


MUNIS = _municipality_answer()


def _reply_json(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    """Send a JSON answer; a client that has given up (timeout test) is no error."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


class _QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and reads the POST body for its subclass."""

    def log_message(self, *args: object) -> None:
        return None

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))


class _LocalServer:
    """A threaded HTTP server on a free port of 127.0.0.1, serving ``handler``."""

    def _serve(self, handler: type[BaseHTTPRequestHandler], path: str) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeOverpass(_LocalServer):
    """Scripted answers first (``script``), then the recorded ones."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes, float]] = []  # (status, body, delay)
        self.after_script: tuple[int, bytes] | None = None  # then always this (errors)
        self.queries: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(_QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                form = urllib.parse.parse_qs(self.body().decode())
                query = form.get("data", [""])[0]
                with fake.lock:
                    fake.queries.append(query)
                    step = fake.script.pop(0) if fake.script else None
                if step is not None:
                    status, body, delay = step
                    time.sleep(delay)
                elif fake.after_script is not None:
                    status, body = fake.after_script
                else:
                    status = 200
                    answer = MUNIS if "de:amtlicher_gemeindeschluessel" in query else FULL
                    body = json.dumps(answer).encode()
                _reply_json(self, status, body)

        self._serve(Handler, "/api")


# ---- Smart Village App (GraphQL) -------------------------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "smart_village_answer.json"
ANSWER = json.loads(FIXTURE.read_text(encoding="utf-8"))
#: The Smart Village categories of the recorded answer -> the shipped region's categories.
MAPPING = {"Ärzte": "hausarzt", "Einkaufen": "lebensmittel",
           "Mobile Versorgung": "lebensmittel", "Treffpunkte": "treffpunkt"}


class FakeServer(_LocalServer):
    """GraphQL endpoint answering from a script: (status, body, delay) per request."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes, float]] = []
        self.requests: list[tuple[dict, dict]] = []
        fake = self

        class Handler(_QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                fake.requests.append((dict(self.headers), json.loads(self.body())))
                status, body, delay = (fake.script.pop(0) if fake.script else
                                       (200, json.dumps(ANSWER).encode(), 0.0))
                time.sleep(delay)
                _reply_json(self, status, body)

        self._serve(Handler, "/graphql")
