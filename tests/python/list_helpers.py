"""What the list tests share: a site with [list], `digest-feed serve` run on a
free port, and plain HTTP requests to it (http.client: no redirects, no magic)."""

import http.client
import re
import subprocess
import time
import urllib.parse

from helpers import EXAMPLE_POSTS, TIMEOUT, Site, binary, config
from smtp_server import free_port

SUBSCRIBERS = """
[[subscribers]]
email = "kim@example.org"
name = "Kim"

[[subscribers]]
email = "lee@example.org"
"""


def list_site(path, smtp_port: int, http_port: int, inbox: str = "", more: str = "", timeout_s: int = 5) -> Site:
    text = config(smtp_port, connections=1, retries=0, timeout_s=timeout_s) + f"""
[list]
public_url = "http://127.0.0.1:{http_port}"
address = "list@example.org"
return_path = "bounces@example.org"
{inbox}
[serve]
listen = "127.0.0.1:{http_port}"
""" + SUBSCRIBERS + more
    return Site.create(path, EXAMPLE_POSTS, text)


class Serve:
    """`with Serve(site) as web:` runs `digest-feed serve` until the block ends."""

    def __init__(self, site: Site, port: int):
        self.site, self.port = site, port

    def __enter__(self):
        self.process = subprocess.Popen([binary(), "serve"], cwd=self.site.path, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith(f"Listening on http://127.0.0.1:{self.port}/"), (line, self.process.stderr.read())
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        """(status, headers, text) of one request, however long serve takes (a sign-up's answer waits
        for its confirmation's SMTP session); TIMEOUT only guards a hang."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            conn.close()

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        return self.request("POST", path, urllib.parse.urlencode(fields),
                            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def unsubscribe_targets(message) -> tuple[str, str]:
    """The https (here http on loopback) and mailto targets of List-Unsubscribe."""
    targets = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    web = [t for t in targets if t.startswith("http")]
    mailto = [t for t in targets if t.startswith("mailto:")]
    assert len(web) == 1 and len(mailto) == 1, targets
    return web[0], mailto[0]


def wait_for(condition, timeout: float = TIMEOUT):
    """Until `condition()` holds: the event a test waits for; `timeout` only guards a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
