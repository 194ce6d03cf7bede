"""A tiny HTTP server on a free loopback port (http.server in a thread),
answering as a test tells it: a WebSub hub taking publish pings, or a blog
whose post page is not deployed yet. Every request is kept, so tests
assert on what digest-feed asked, never on the clock."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebServer:
    """`answer(method, path, body) -> (status, body bytes)` decides each reply;
    `requests` holds (method, path, form fields or None) in order."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.reply("GET", None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    self.reply("POST", urllib.parse.parse_qs(raw, keep_blank_values=True))
                else:  # not a form: pinged_urls() fails on it
                    self.reply("POST", {"not a form": [raw]})

            def reply(self, method, form):
                with server.lock:
                    server.requests.append((method, self.path, form))
                    status, body = server.answer(method, self.path, len(server.requests))
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def take(self) -> list:
        """The requests so far, forgotten here."""
        with self.lock:
            taken, self.requests = self.requests, []
        return taken


def pinged_urls(requests: list) -> list[str]:
    """The hub.url of each publish ping among `requests`, sorted."""
    urls = []
    for method, _, form in requests:
        assert method == "POST" and form["hub.mode"] == ["publish"], (method, form)
        urls.extend(form["hub.url"])
    return sorted(urls)
