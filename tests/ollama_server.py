"""An Ollama-API-compatible server on 127.0.0.1 for tests: /api/tags, /api/show and /api/chat
(non-streaming), with scripted failure modes. It speaks the real protocol, so the official
`ollama` client talks to it over real HTTP exactly as it would to Ollama."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "judge-test:latest"
DIGEST = "sha256:" + "ab" * 32


class FakeOllama:
    """`replies` is a list of modes consumed one per chat request; the last one repeats.

    modes: ("good", score) | "by-rubric" | "malformed" | "schema" | "slow" | "503" | "truncated" | "garbage"
    "by-rubric" answers like a judge that finds no leak, an informative answer and no hallucination.
    """

    def __init__(self, replies=(("good", 2),), vision=True, slow_seconds=3.0):
        self.replies = list(replies)
        self.vision = vision
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_json(self, status, payload, raw=None):
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/api/tags":
                    self.send_json(200, {"models": [{"name": MODEL, "model": MODEL, "digest": DIGEST, "size": 1}]})
                else:
                    self.send_json(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/show":
                    capabilities = ["completion", "vision"] if server.vision else ["completion"]
                    self.send_json(200, {"modelfile": "", "details": {}, "model_info": {}, "capabilities": capabilities})
                    return
                if self.path != "/api/chat":
                    self.send_json(404, {"error": "not found"})
                    return
                server.requests.append(request)
                mode = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                name, score = (mode, 3) if isinstance(mode, str) else mode
                if name == "by-rubric":
                    prompt = request["messages"][0]["content"]
                    name, score = "good", (4 if "assessor of answer quality" in prompt else 1)
                content, done_reason = json.dumps({"score": score}), "stop"
                if name == "503":
                    self.send_json(503, {"error": "server busy, please try again. maximum pending requests exceeded"})
                    return
                if name == "garbage":
                    self.send_json(200, None, raw=b"<html>proxy error</html>")
                    return
                if name == "slow":
                    time.sleep(server.slow_seconds)
                elif name == "malformed":
                    content = '{"score": 3'
                elif name == "schema":
                    content = '{"score": 9, "note": "out of range"}'
                elif name == "truncated":
                    content, done_reason = '{"sco', "length"
                self.send_json(200, {
                    "model": request.get("model"), "created_at": "2026-11-22T00:00:00Z",
                    "message": {"role": "assistant", "content": content},
                    "done": True, "done_reason": done_reason,
                })

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def unused_port_url() -> str:
    """A loopback URL where nothing listens: connection refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
