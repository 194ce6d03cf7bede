"""Mail that reaches the inbox (issue 15): DKIM signatures made with keys
the test makes (openssl), received by a real SMTP server (aiosmtpd) and
verified with dkimpy against the record `digest-feed dns` prints; headers of
a Korean-titled site with an IDN sender read by Python's email package with
policy.strict; `--to "Name <addr>"`; a dry run equal to the send."""

import email
import email.policy
import json
import re
import subprocess

import dkim
import pytest

from helpers import EXAMPLE_POSTS, Site, config, dkim_record, mail, make_dkim_key
from smtp_server import SmtpServer, free_port

SUBSCRIBERS = """
[[subscribers]]
email = "kim@example.org"
name = "김철수"

[[subscribers]]
email = "plain@example.org"
"""
HTTPS_UNSUBSCRIBE = 'list_unsubscribe = "https://papers.example.org/unsubscribe?address={{ subscriber.email | urlencode }}"\n'


def dkim_site(path, port: int, algorithm: str, key: str = "dkim.pem", email_more: str = "") -> Site:
    text = config(port, connections=2, retries=1, email=HTTPS_UNSUBSCRIBE + email_more)
    text = text.replace("[smtp]", f'[email.dkim]\ndomain = "example.org"\nselector = "digest"\n'
                                  f'private_key_file = "{key}"\nalgorithm = "{algorithm}"\n\n[smtp]', 1)
    return Site.create(path, EXAMPLE_POSTS, text + SUBSCRIBERS)


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "ed25519-sha256"])
def test_every_message_verifies_with_dkimpy(tmp_path, algorithm):
    with SmtpServer() as server:
        site = dkim_site(tmp_path, server.port, algorithm)
        make_dkim_key(tmp_path / "dkim.pem", algorithm)
        name, record = dkim_record(site)
        assert name == "digest._domainkey.example.org"
        assert record.startswith(b"v=DKIM1; k=" + (b"rsa" if algorithm == "rsa-sha256" else b"ed25519") + b"; p=")
        mail(site)
        received = server.recorder.messages()
    assert sorted(r[0] for r, _, _ in received) == ["kim@example.org", "plain@example.org"]

    def dns(qname, timeout=5):
        return record if qname == (name + ".").encode() else None

    for _, message, raw in received:
        assert raw.startswith(b"DKIM-Signature: "), raw[:200]
        assert dkim.verify(raw, dnsfunc=dns), f"dkimpy refused the signature:\n{raw[:1500]!r}"
        tags = dict(tag.strip().split("=", 1) for tag in re.sub(r"\s+", "", message["DKIM-Signature"]).split(";") if tag)
        assert tags["a"] == algorithm and tags["c"] == "relaxed/relaxed" and tags["d"] == "example.org"
        signed = tags["h"].lower().split(":")
        for header in ["from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
                       "list-unsubscribe-post", "mime-version", "content-type"]:
            assert header in signed, header
        # A changed byte breaks it: the test can fail.
        assert not dkim.verify(raw.replace(b"Subject: ", b"Subject: Re: ", 1), dnsfunc=dns)


def test_a_key_that_cannot_be_read_is_a_config_problem(tmp_path):
    site = dkim_site(tmp_path, free_port(), "rsa-sha256", key="missing.pem")
    result = site.run("check", code=2)
    assert "[email.dkim] private_key_file" in result.stderr and "missing.pem: cannot read it" in result.stderr
    assert "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048" in result.stderr

    (tmp_path / "missing.pem").write_text("not a key\n")
    result = site.run("check", code=2)
    assert "no PEM private key in it; it must hold an RSA private key in PEM" in result.stderr

    make_dkim_key(tmp_path / "missing.pem", "ed25519-sha256")
    result = site.run("mail", "--dry-run", code=2)
    assert "not an RSA private key" in result.stderr
    assert 'for an Ed25519 key set algorithm = "ed25519-sha256"' in result.stderr
    assert "openssl pkey -in" in result.stderr


KOREAN = """\
[site]
title = "데일리 페이퍼"
url = "https://예시.한국/blog"
language = "ko"
timezone = "Asia/Seoul"

[email]
from = "데일리 페이퍼 <papers@예시.한국>"

[email.dkim]
domain = "예시.한국"
private_key_file = "dkim.pem"
algorithm = "ed25519-sha256"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"

[[subscribers]]
email = "reader@예시.한국"
name = "김독자, \\"박사\\""

[[subscribers]]
email = "plain@example.org"
"""


def test_korean_title_and_idn_sender_headers_pass_policy_strict(tmp_path):
    with SmtpServer() as server:
        site = Site.create(tmp_path, EXAMPLE_POSTS, KOREAN.format(port=server.port))
        make_dkim_key(tmp_path / "dkim.pem", "ed25519-sha256")
        site.run("check")
        name, record = dkim_record(site)
        assert name == "digest._domainkey.xn--vv4b11d.xn--3e0b707e"
        mail(site)
        received = server.recorder.messages()
    assert sorted(r[0] for r, _, _ in received) == ["plain@example.org", "reader@xn--vv4b11d.xn--3e0b707e"]
    for _, _, raw in received:
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii()
        message = email.message_from_bytes(raw, policy=email.policy.strict)  # raises on any defect
        for part in message.walk():
            assert part.defects == [], part.defects
            for header, value in part.items():
                assert getattr(value, "defects", ()) == (), (header, value.defects)
        assert message["From"].addresses[0].display_name == "데일리 페이퍼"
        assert message["From"].addresses[0].domain == "xn--vv4b11d.xn--3e0b707e"
        assert re.fullmatch(r"<[0-9a-f]{32}@xn--vv4b11d\.xn--3e0b707e>", message["Message-ID"])
        list_id = message["List-Id"]
        assert list_id.startswith("데일리 페이퍼 <") and re.search(r"<[a-z0-9-]+\.xn--vv4b11d\.xn--3e0b707e>$", list_id), list_id
        assert message["List-Unsubscribe"] == "<mailto:papers@xn--vv4b11d.xn--3e0b707e?subject=unsubscribe>"
        assert dkim.verify(raw, dnsfunc=lambda q, timeout=5: record if q == (name + ".").encode() else None)
        html = message.get_body(("html",)).get_content()
        assert "웹에서 읽기" in html and "수신 거부" in html


def test_to_takes_a_name_and_the_dry_run_is_the_send(tmp_path):
    with SmtpServer() as server:
        site = dkim_site(tmp_path, server.port, "ed25519-sha256")
        make_dkim_key(tmp_path / "dkim.pem", "ed25519-sha256")
        mail(site, "--to", "Test Reader <test@example.org>")
        [(rcpts, sent, raw)] = server.recorder.messages()
    assert rcpts == ["test@example.org"]
    assert str(sent["To"]) == "Test Reader <test@example.org>"
    mail(site, "--dry-run", "--to", "Test Reader <test@example.org>", "--eml-dir", "eml")
    [eml] = (tmp_path / "eml").glob("*.eml")
    dry = eml.read_bytes()

    def normal(raw: bytes) -> bytes:
        """Without what differs by design: the time, the boundary, and what they change (a test send's
        fresh Message-ID, the signature's time, hashes and value)."""
        boundary = re.search(rb'boundary="([^"]+)"', raw)[1]
        raw = raw.replace(boundary, b"BOUNDARY")
        raw = re.sub(rb"^DKIM-Signature:.*?(?=\r\n\S)", b"DKIM-Signature: -", raw, flags=re.S | re.M)
        raw = re.sub(rb"^(Date|Message-ID): .*$", rb"\1: -", raw, flags=re.M)
        # The server keeps the CRLF of SMTP's end-of-data line ("\r\n.\r\n") too.
        return raw.rstrip(b"\r\n")

    assert normal(dry) == normal(raw)
    assert not (tmp_path / ".digest-feed" / "state.db").exists(), "a test send records nothing"
    result = site.run("mail", "--to", "not an address", code=2)
    assert '--to: "not an address" is not an address like reader@example.org or "Reader <reader@example.org>"' in result.stderr


# Names that put blanks, tabs, long runs and non-ASCII (quoted-printable and
# base64 parts) right beside the lines every recipient shares.
BLANK_HEAVY_NAMES = ["", " ", "\t", "A  B", "Trail   ", "   Lead", "김철수", "é" * 200, "x " * 100, "z\t\t\t"]


def test_messages_whose_own_lines_are_blank_heavy_verify_with_dkimpy(tmp_path):
    # The body hash canonicalises the shared lines once per post and splices
    # them between each recipient's own: blank lines, trailing white space and
    # empty endings around those lines are where a splice would go wrong.
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "email.txt").write_text(
        "{{ subscriber.name }}   \n\tled by a tab\n  \n\t\n{{ subscriber.name }}\n line with trailing\t\n"
        "{{ subscriber.name }}{{ subscriber.name }}\n\n\n \n{{ post.title }}\n \t\n{{ subscriber.name }}")
    (tmp_path / "tpl" / "email.html").write_text(
        "<p>{{ subscriber.name }}</p>   \n\t<p>tab</p>\t\n  \n<pre>\t \n</pre>{{ subscriber.name }}   \n"
        "  {{ subscriber.name }}  \n\t \t<b>x</b> \n\n<p>{{ post.title }}</p>\t\n  \n{{ subscriber.name }}\n\n\n")
    subscribers = "".join(f'\n[[subscribers]]\nemail = "r{i}@example.org"\nname = {json.dumps(name)}\n'
                          for i, name in enumerate(BLANK_HEAVY_NAMES))
    with SmtpServer() as server:
        text = config(server.port, connections=4, retries=1, email='templates = "tpl"\n').replace(
            "[smtp]", '[email.dkim]\ndomain = "example.org"\nselector = "digest"\n'
                      'private_key_file = "dkim.pem"\nalgorithm = "ed25519-sha256"\n\n[smtp]', 1)
        site = Site.create(tmp_path, EXAMPLE_POSTS, text + subscribers)
        make_dkim_key(tmp_path / "dkim.pem", "ed25519-sha256")
        name, record = dkim_record(site)
        mail(site)
        received = server.recorder.messages()
    assert len(received) == len(BLANK_HEAVY_NAMES)

    def dns(qname, timeout=5):
        return record if qname == (name + ".").encode() else None

    encodings = set()
    for _, message, raw in received:
        encodings.update(part["Content-Transfer-Encoding"] for part in message.walk()
                         if part.get_content_maintype() == "text")
        assert dkim.verify(raw, dnsfunc=dns), f"dkimpy refused the signature:\n{raw[:3000]!r}"
    assert {"quoted-printable", "base64"} <= encodings, encodings
