"""`digest-feed serve` over real HTTP: one-click unsubscribe with the token
taken from a received message's List-Unsubscribe header, a GET that never
unsubscribes, forged and foreign tokens refused, bounded bodies, a flood cut
off, sign-up → confirmation email → confirm → the next `mail` includes
the new subscriber, and subscribers added while serve runs found by their
tokens."""

import base64
import hashlib
import hmac
import re
import socket
import sqlite3
import time
import urllib.parse
from contextlib import closing

import pytest

from helpers import add_post, mail, query
from list_helpers import Serve, list_site, unsubscribe_targets, wait_for
from smtp_server import free_port


@pytest.fixture
def web_site(tmp_path, server):
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    with Serve(site, port) as web:
        yield site, web


def message_to(server, address):
    found = [m for rcpts, m, _ in server.recorder.messages() if rcpts == [address]]
    assert found, address
    return found[-1]


def test_one_click_unsubscribe_from_the_header(web_site, server):
    site, web = web_site
    mail(site)
    kim = message_to(server, "kim@example.org")
    url, mailto = unsubscribe_targets(kim)
    assert kim["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "kim" not in url and "kim" not in mailto, "no target reveals the address"
    assert mailto.startswith("mailto:list@example.org?subject=unsubscribe%20")
    token = url.rsplit("/", 1)[1]
    assert mailto.endswith(token)
    html = kim.get_body(("html",)).get_content()
    assert url in html, "the footer links to the confirm page"
    # VERP: each message's envelope sender names its recipient with a token.
    senders = server.recorder.senders
    assert all(re.fullmatch(r"bounces\+[A-Za-z0-9_-]{22}@example\.org", s) for s in senders), senders
    assert len(set(senders)) == 2

    path = urllib.parse.urlsplit(url).path
    status, _, page = web.request("GET", path)
    assert status == 200
    assert "<h1>Unsubscribe?</h1>" in page and '<form method="post">' in page
    assert query(site, "SELECT * FROM suppressions") == [], "a GET never unsubscribes"

    status, _, page = web.post_form(path, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "<h1>You are unsubscribed</h1>" in page
    assert query(site, "SELECT email, reason, source FROM suppressions") == [("kim@example.org", "unsubscribed", "serve")]
    # Again, as multipart/form-data (RFC 8058 allows either): still fine, nothing doubled.
    multipart = b'--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n'
    assert web.request("POST", path, multipart, {"Content-Type": "multipart/form-data; boundary=x"})[0] == 200
    assert len(query(site, "SELECT * FROM suppressions")) == 1
    assert "kim@example.org: unsubscribed " in site.run("status").stdout

    server.recorder.clear()
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    mail(site)
    assert server.recorder.recipients() == ["lee@example.org"]


def test_forged_and_foreign_tokens_are_refused(web_site, server):
    site, web = web_site
    mail(site)
    url, _ = unsubscribe_targets(message_to(server, "kim@example.org"))
    path = urllib.parse.urlsplit(url).path
    token = path.rsplit("/", 1)[1]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in [f"/unsubscribe/{altered}", "/unsubscribe/AAAAAAAAAAAAAAAAAAAAAA", "/unsubscribe/kim@example.org",
                f"/confirm/{token}"]:
        for method in ["GET", "POST"]:
            status, _, page = web.post_form(bad, {"List-Unsubscribe": "One-Click"}) if method == "POST" else web.request("GET", bad)
            assert status == 404, (bad, method)
            assert "<h1>This link does not work</h1>" in page
    # Lee's token unsubscribes Lee, never Kim.
    lee_url, _ = unsubscribe_targets(message_to(server, "lee@example.org"))
    assert web.post_form(urllib.parse.urlsplit(lee_url).path, {"List-Unsubscribe": "One-Click"})[0] == 200
    assert query(site, "SELECT email FROM suppressions") == [("lee@example.org",)]


def test_bodies_are_bounded_and_a_flood_is_cut(web_site):
    _, web = web_site
    # A client that sends half its headers and then nothing: the server hangs up within 30 s.
    slow = socket.create_connection(("127.0.0.1", web.port))
    slow.sendall(b"GET /subscribe HTTP/1.1\r\nHost: x\r\n")
    status, _, _ = web.post_form("/subscribe", {"email": "a@example.org", "name": "x" * 10_000})
    assert status == 413
    statuses = [web.request("GET", "/subscribe", headers={"X-Forwarded-For": "203.0.113.5"})[0] for _ in range(40)]
    assert statuses[:20] == [200] * 20
    assert statuses[-1] == 429
    status, headers, page = web.request("GET", "/subscribe", headers={"X-Forwarded-For": "203.0.113.5"})
    assert status == 429 and headers["retry-after"] == "3" and "Too many requests" in page
    assert web.request("GET", "/subscribe", headers={"X-Forwarded-For": "203.0.113.6"})[0] == 200, "others still get in"
    assert web.request("GET", "/nothing-here")[0] == 404
    # Still open while the others were answered, then hung up on at the
    # connection's deadline (30 s); the socket's timeout only guards a hang.
    slow.setblocking(False)
    with pytest.raises(BlockingIOError):
        slow.recv(1024)
    slow.settimeout(300)
    assert slow.recv(1024) == b"", "closed without an answer"
    slow.close()


def test_signup_with_double_opt_in(web_site, server):
    site, web = web_site
    mail(site)
    server.recorder.clear()
    status, _, form = web.request("GET", "/subscribe")
    assert status == 200 and 'name="email"' in form

    assert web.post_form("/subscribe", {"email": "not an address"})[0] == 400
    status, _, page = web.post_form("/subscribe", {"email": "new@example.org", "name": "New Reader"})
    assert status == 200 and "<h1>Check your inbox</h1>" in page
    # Someone already on the list gets the same page, and no mail: nothing tells who is subscribed.
    assert web.post_form("/subscribe", {"email": "kim@example.org"})[2] == page
    wait_for(lambda: server.recorder.count() == 1)
    confirmation = message_to(server, "new@example.org")
    assert confirmation["Subject"] == "Confirm your subscription to Daily Papers"
    link = re.search(r"http://127\.0\.0\.1:\d+/confirm/[A-Za-z0-9_-]{22}", confirmation.get_content()).group(0)
    assert "Pending" not in site.run("subscribers").stdout
    assert "new@example.org  [sign-up pending since" in site.run("subscribers").stdout

    path = urllib.parse.urlsplit(link).path
    status, _, page = web.request("GET", path)
    assert status == 200 and "Confirm my subscription" in page
    assert query(site, "SELECT confirmed_at FROM signups") == [(None,)], "a GET never confirms"
    status, _, page = web.post_form(path, {})
    assert status == 200 and "<h1>You are subscribed</h1>" in page
    assert "new@example.org (New Reader)  [sign-up]" in site.run("subscribers").stdout

    # The next mail: the newest post, once, to the new subscriber alone.
    server.recorder.clear()
    mail(site)
    assert server.recorder.recipients() == ["new@example.org"]
    server.recorder.clear()
    mail(site)
    assert server.recorder.recipients() == []
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    mail(site)
    assert server.recorder.recipients() == ["kim@example.org", "lee@example.org", "new@example.org"]


def test_a_sign_up_flood_mails_one_confirmation(web_site, server):
    site, web = web_site
    mail(site)
    site.run("subscribers", "suppress", "lee@example.org")
    query_rw(site, "UPDATE suppressions SET reason = 'complained'")
    server.recorder.clear()
    # 25 sign-ups of one address, each from another client (no rate limit holds them back).
    for n in range(25):
        status, _, page = web.post_form("/subscribe", {"email": "victim@example.org"},
                                        {"X-Forwarded-For": f"198.51.100.{n + 1}"})
        assert status == 200 and "<h1>Check your inbox</h1>" in page
    # And one for an address that complained: the same page, no mail.
    assert web.post_form("/subscribe", {"email": "lee@example.org"})[2] == page
    # One queue, one thread: once a sign-up queued last is mailed, every one before it was handled.
    web.post_form("/subscribe", {"email": "last@example.org"}, {"X-Forwarded-For": "198.51.100.99"})
    wait_for(lambda: "last@example.org" in server.recorder.recipients(), timeout=60)
    assert server.recorder.recipients() == ["last@example.org", "victim@example.org"]
    assert query(site, "SELECT email FROM signups ORDER BY email") == [("last@example.org",), ("victim@example.org",)]


def test_a_greylisted_confirmation_may_be_asked_for_again(web_site, server):
    site, web = web_site
    mail(site)
    server.recorder.clear()
    server.recorder.reject["grey@example.org"] = "451 4.7.1 Greylisted, try again later"
    refused = server.recorder.refused
    web.post_form("/subscribe", {"email": "grey@example.org"}, {"X-Forwarded-For": "198.51.100.1"})
    wait_for(lambda: query(site, "SELECT email FROM signups") == [("grey@example.org",)])
    wait_for(lambda: server.recorder.refused > refused)  # the server said 451 to its confirmation
    assert server.recorder.recipients() == []
    del server.recorder.reject["grey@example.org"]
    web.post_form("/subscribe", {"email": "grey@example.org"}, {"X-Forwarded-For": "198.51.100.1"})
    wait_for(lambda: server.recorder.recipients() == ["grey@example.org"])
    # Suppressed by hand: no confirmation, the same page. And a client's sign-ups are few an hour.
    site.run("subscribers", "suppress", "nomail@example.org")
    statuses = [web.post_form("/subscribe", {"email": f"x{n}@example.org"}, {"X-Forwarded-For": "198.51.100.9"})[0]
                for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert web.post_form("/subscribe", {"email": "nomail@example.org"})[0] == 200
    # Queued last, mailed last: once it is in, nomail's sign-up was handled.
    web.post_form("/subscribe", {"email": "last@example.org"}, {"X-Forwarded-For": "198.51.100.10"})
    wait_for(lambda: "last@example.org" in server.recorder.recipients(), timeout=60)
    assert "nomail@example.org" not in server.recorder.recipients()


def query_rw(site, sql: str):
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(site.state)) as db, db:
        db.execute(sql)


def token(site, purpose: str, address: str) -> str:
    """`address`'s token for `purpose`, made as src/token.rs makes it (HMAC-SHA256 of
    the purpose, NUL and the address under the list's key, 128 bits in base64url):
    the test names subscribers no message was ever sent to."""
    key = (site.path / ".digest-feed" / "secret").read_bytes()
    mac = hmac.new(key, purpose.encode() + b"\0" + address.strip().lower().encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


def test_subscribers_added_while_serving_are_found_by_their_tokens(tmp_path, server):
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    config = site.path / "config.toml"
    config.write_text(config.read_text().replace("[email]\n", '[email]\nsubscribers_file = "subscribers.csv"\n', 1))
    csv = site.path / "subscribers.csv"
    csv.write_text("email,name\nann@example.org,Ann\n")
    mail(site)
    with Serve(site, port) as web:
        def status(purpose, address):
            return web.request("GET", f"/{purpose}/{token(site, purpose, address)}")[0]

        def soon(purpose, address):
            # serve trusts a file's times 2 s after its last change: a change
            # within the same clock tick as its last look shows by then. The
            # deadline only guards a hang.
            deadline = time.monotonic() + 60
            while status(purpose, address) != 200:
                assert time.monotonic() < deadline, (purpose, address)
                time.sleep(0.5)

        assert status("unsubscribe", "ann@example.org") == 200
        assert status("unsubscribe", "kim@example.org") == 200
        assert status("unsubscribe", "bob@example.org") == 404
        csv.write_text("email,name\nann@example.org,Ann\nbob@example.org,Bob\n")
        assert status("unsubscribe", "bob@example.org") == 200, "a longer CSV is read again at once"
        csv.write_text("email,name\namy@example.org,Amy\nbob@example.org,Bob\n")
        soon("unsubscribe", "amy@example.org")
        assert status("unsubscribe", "ann@example.org") == 404, "one no longer listed is forgotten"

        # Another process (inbox, say) records a sign-up in the state.
        assert status("confirm", "sam@example.org") == 404
        with closing(sqlite3.connect(site.state)) as db, db:
            db.execute("INSERT INTO signups (email, name, source, requested_at) "
                       "VALUES ('sam@example.org', '', 'test', '2025-12-24T00:00:00Z')")
        soon("confirm", "sam@example.org")
        path = f"/confirm/{token(site, 'confirm', 'sam@example.org')}"
        assert web.post_form(path, {})[0] == 200
        assert query(site, "SELECT email, confirmed_by FROM signups") == [("sam@example.org", "serve 127.0.0.1")]


# The list under attack: what a stranger with the blog's sign-up form can do.

def test_a_cross_site_sign_up_is_refused(web_site, server):
    site, web = web_site
    forged = [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
              {"Origin": "null"}]
    for headers in forged:
        status, _, page = web.post_form("/subscribe", {"email": "victim@example.org"}, headers)
        assert status == 403 and "sent from another site" in page, headers
    own = {"Origin": f"http://127.0.0.1:{web.port}", "Sec-Fetch-Site": "same-origin"}
    assert web.post_form("/subscribe", {"email": "new@example.org"}, own)[0] == 200
    wait_for(lambda: server.recorder.recipients() == ["new@example.org"])


def test_token_pages_leak_no_referrer_and_cannot_be_framed(web_site):
    site, web = web_site
    for path in ["/subscribe", f"/unsubscribe/{token(site, 'unsubscribe', 'kim@example.org')}", "/nothing"]:
        _, headers, _ = web.request("GET", path)
        headers = {name.lower(): value for name, value in headers.items()}
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path


def test_each_visitor_behind_a_proxy_on_ipv6_any_has_a_bucket(tmp_path, server):
    import subprocess
    from helpers import binary
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    config = site.path / "config.toml"
    config.write_text(config.read_text().replace(f'listen = "127.0.0.1:{port}"', f'listen = "[::]:{port}"'))
    process = subprocess.Popen([binary(), "serve"], cwd=site.path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith(f"Listening on http://[::]:{port}/")
        web = Serve(site, port)
        # The proxy on 127.0.0.1 arrives as ::ffff:127.0.0.1; each visitor it names is counted alone.
        statuses = [web.request("GET", "/subscribe", headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})[0]
                    for n in range(30)]
        assert statuses == [200] * 30
        statuses = [web.request("GET", "/subscribe", headers={"X-Forwarded-For": "203.0.113.5"})[0]
                    for _ in range(25)]
        assert statuses[:20] == [200] * 20 and statuses[-1] == 429, "one visitor is still limited"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_one_click_posts_before_any_state_exists_all_succeed(tmp_path, server):
    from concurrent.futures import ThreadPoolExecutor
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    with Serve(site, port) as web:
        # Links made before this serve ever ran (the state is made by the first POST).
        (site.path / ".digest-feed").mkdir(exist_ok=True)
        paths = [f"/unsubscribe/{token(site, 'unsubscribe', address)}" for address in ["kim@example.org", "lee@example.org"]]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: web.post_form(paths[n % 2], {"List-Unsubscribe": "One-Click"}),
                                    range(8)))
        assert [status for status, _, _ in answers] == [200] * 8, [page for _, _, page in answers]
    assert sorted(query(site, "SELECT email FROM suppressions")) == [("kim@example.org",), ("lee@example.org",)]


def test_a_bad_row_in_the_subscribers_file_stops_no_one_click_and_no_sign_up(tmp_path, server):
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    config = site.path / "config.toml"
    config.write_text(config.read_text().replace("[email]\n", '[email]\nsubscribers_file = "subscribers.csv"\n', 1))
    (site.path / "subscribers.csv").write_text("email,name\nann@example.org,Ann\nAnn@Example.org,Ann again\n"
                                               "not an address,X\n")
    mail(site, code=1)  # the bad row is a failure until fixed; the repeat is not
    with Serve(site, port) as web:
        path = f"/unsubscribe/{token(site, 'unsubscribe', 'ann@example.org')}"
        assert web.post_form(path, {"List-Unsubscribe": "One-Click"})[0] == 200
        assert web.post_form("/subscribe", {"email": "new@example.org"})[0] == 200
        wait_for(lambda: "new@example.org" in server.recorder.recipients())
    assert query(site, "SELECT email FROM suppressions") == [("ann@example.org",)]


def test_confirmation_mails_are_made_as_posts_are(tmp_path, server):
    import subprocess
    import dkim
    port = free_port()
    site = list_site(tmp_path, server.port, port)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(site.path / "dkim.pem")],
                   check=True, capture_output=True)
    config = site.path / "config.toml"
    config.write_text(config.read_text().replace(
        "[smtp]", '[email.dkim]\ndomain = "example.org"\nselector = "digest"\nprivate_key_file = "dkim.pem"\n'
                  'algorithm = "ed25519-sha256"\n\n[smtp]', 1))
    with Serve(site, port) as web:
        web.post_form("/subscribe", {"email": "new@example.org"})
        wait_for(lambda: server.recorder.count() == 1)
    _, message, raw = server.recorder.messages()[0]
    assert re.fullmatch(r"<notice\.[0-9a-f]{32}@example\.org>", message["Message-ID"])
    assert message["MIME-Version"] == "1.0" and message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    out = site.run("dns").stdout
    found = re.search(r'^(\S+)\. 3600 IN TXT (\( .* \)|".*")$', out, re.M)
    record = "".join(re.findall(r'"([^"]*)"', found[2])).encode()
    assert dkim.verify(raw, dnsfunc=lambda q, timeout=5: record if q == (found[1] + ".").encode() else None)
