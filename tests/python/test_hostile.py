"""The hostile fixtures (tests/fixtures/hostile) through every output a reader
sees: each XML feed must be well-formed for lxml's strict parser, and every
piece of HTML in a feed or an email is audited with html5lib (a browser's
parse): no element or attribute that runs script, and no link anywhere but
http(s) or mailto."""

import email
import email.policy
import json
import re

import html5lib
import pytest
from lxml import etree

from helpers import FIXTURES, Site

HOSTILE = FIXTURES / "hostile"

CONFIG = """
[site]
title = "Daily Papers"
url = "https://papers.example.org"
timezone = "Asia/Seoul"
author = "Papers Bot <papers@example.org>"

[feed]
limit = 50
items = "{items}"
per_tag = true

[email]
from = "Daily Papers <papers@example.org>"

[[subscribers]]
email = "reader@example.org"
name = "Reader"
"""

# Elements that run script, load a page, or change where links go.
FORBIDDEN_ELEMENTS = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta",
    "link", "form", "button", "textarea", "select", "svg", "math", "template", "noscript",
}
URL_ATTRIBUTES = {"href", "src", "cite", "background", "poster", "data", "longdesc", "usemap", "ping",
                  "action", "formaction", "xlink:href", "srcset"}
SAFE_SCHEMES = {"http", "https", "mailto"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
NS = {"atom": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/"}


def scheme_of(url):
    """The scheme a browser would see: it drops white space and control characters first."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", url).lower()
    match = SCHEME.match(cleaned)
    return match.group(1) if match else None


def assert_safe_link(url, where):
    scheme = scheme_of(url)
    assert scheme in SAFE_SCHEMES, f"{where}: link {url!r} is not http(s) or mailto"


def audit_html(html, where):
    """html5lib's (a browser's) reading of `html`: nothing executable, every link http(s) or mailto."""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    for element in fragment.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in FORBIDDEN_ELEMENTS, f"{where}: <{tag}> in {html[:300]!r}"
        for name, value in element.attrib.items():
            name = name.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), f"{where}: <{tag} {name}=…> in {html[:300]!r}"
            assert name not in {"srcdoc", "formaction", "action"}, f"{where}: <{tag} {name}=…>"
            if name in URL_ATTRIBUTES and scheme_of(value) is not None:
                assert_safe_link(value, f"{where}: <{tag} {name}>")
            if name == "style":
                assert not re.search(r"javascript:|expression\(|url\(", value, re.I), f"{where}: style {value!r}"


def audit_document(html, where):
    """A whole page (an email, the feeds page): its head may hold its own <meta>, <title> and
    <link rel="alternate"> (never a refresh, every link http(s)), its body is audited as any HTML."""
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    head, body = document.find("head"), document.find("body")
    for element in head:
        if not isinstance(element.tag, str):
            continue  # a comment
        assert element.tag in ("meta", "title", "link"), f"{where}: <{element.tag}> in the head"
        assert "http-equiv" not in element.attrib, f"{where}: {element.attrib}"
        if element.tag == "link":
            assert element.get("rel") == "alternate", f"{where}: {element.attrib}"
            assert_safe_link(element.get("href"), f"{where}: <link>")
    audit_html(etree_to_html(body), where)


def etree_to_html(element):
    import xml.etree.ElementTree as ElementTree
    return ElementTree.tostring(element, encoding="unicode", method="html")


def audit_rss(path):
    root = etree.fromstring(path.read_bytes())  # strict: raises on ill-formed XML
    for item in root.iter("item"):
        where = f"{path}: item {item.findtext('title')!r}"
        audit_html(item.findtext("description") or "", f"{where} description")
        audit_html(item.findtext("content:encoded", namespaces=NS) or "", f"{where} content")
        for tag in ("link", "comments"):
            if item.findtext(tag):
                assert_safe_link(item.findtext(tag), f"{where} {tag}")


def audit_atom(path):
    root = etree.fromstring(path.read_bytes())
    for entry in root.iterfind("atom:entry", NS):
        where = f"{path}: entry {entry.findtext('atom:title', namespaces=NS)!r}"
        for tag in ("atom:summary", "atom:content", "atom:title"):
            node = entry.find(tag, NS)
            if node is not None and node.get("type") in ("html", "xhtml"):
                audit_html(node.text or "", f"{where} {tag}")
        for link in entry.iterfind("atom:link", NS):
            assert_safe_link(link.get("href"), f"{where} link")


def audit_json(path):
    feed = json.loads(path.read_text(encoding="utf-8"))
    for item in feed["items"]:
        where = f"{path}: item {item['title']!r}"
        audit_html(item.get("content_html", ""), f"{where} content_html")
        for key in ("url", "external_url"):
            if key in item:
                assert_safe_link(item[key], f"{where} {key}")


def hostile_site(tmp_path, items):
    return Site.create(tmp_path / items, HOSTILE, CONFIG.format(items=items))


@pytest.mark.parametrize("items", ["posts", "papers"])
def test_every_feed_is_well_formed_and_nothing_in_it_runs(tmp_path, items):
    site = hostile_site(tmp_path, items)
    site.build()
    feeds = sorted(site.path.joinpath("public").rglob("*.*"))
    assert len(feeds) >= 6, feeds
    for path in feeds:
        if path.suffix == ".html":
            audit_document(path.read_text(encoding="utf-8"), path.name)
            continue
        {".xml": audit_rss if path.name == "feed.xml" else audit_atom, ".json": audit_json}[path.suffix](path)


def test_the_rss_summary_is_text_not_markup(tmp_path):
    site = hostile_site(tmp_path, "posts")
    site.build()
    root = etree.fromstring(site.out("feed.xml").read_bytes())
    descriptions = {item.findtext("title"): item.findtext("description") for item in root.iter("item")}
    # The summary is shown as written, as text: its markup escaped, not run.
    assert "&lt;img src=x onerror=alert(1)&gt;" in descriptions["Summary markup"]
    assert "<script" not in descriptions["Description markup"]
    assert "a link" in descriptions["Description markup"]


def test_control_characters_never_reach_xml(tmp_path):
    site = hostile_site(tmp_path, "posts")
    site.build()
    for name in ("feed.xml", "atom.xml"):
        text = site.out(name).read_text(encoding="utf-8")
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", text), name
        assert "Control chars here" in text and "A form feed pasted from a PDF" in text, name


def test_papers_never_link_anywhere_but_http(tmp_path):
    site = hostile_site(tmp_path, "papers")
    site.build()
    feed = json.loads(site.out("feed.json").read_text(encoding="utf-8"))
    # A paper's own link is JSON Feed's `external_url` (`url` is its place in the post).
    urls = {item["title"]: item["external_url"] for item in feed["items"] if "paper" in item["id"]}
    assert urls["Fine"] == "https://arxiv.org/abs/2512.00009"
    # A paper whose link is not http(s) or mailto links to its post instead.
    post = "https://papers.example.org/2025/12/12/paper-urls.html"
    for title in ("Click me", "Encoded", "Mixed case", "Reference", "Data", "VB", "File", "Tab split"):
        assert urls[title] == post, (title, urls)


def test_every_email_is_audited(tmp_path):
    site = hostile_site(tmp_path, "posts")
    for post in sorted(HOSTILE.iterdir()):
        site.run("mail", "--dry-run", "--eml-dir", "eml", "--post", post.name)
    messages = sorted(site.path.joinpath("eml").iterdir())
    assert len(messages) == len(list(HOSTILE.iterdir())), messages
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        audit_document(html, path.name)
        for scheme in ("javascript:", "vbscript:", "data:text"):
            assert scheme not in html.lower() and scheme not in text.lower(), f"{path.name}: {scheme}"


ADDRESSES = """
[[subscribers]]
email = '"a/../b"@example.org'
[[subscribers]]
email = "x@[127.0.0.1]"
[[subscribers]]
email = "nul@example.org"
name = "Nul\\u0000Name"
[[subscribers]]
email = "jose\\u0301@example.org"
[[subscribers]]
email = "jos\\u00e9@example.org"
[[subscribers]]
email = "a@bücher.de"
[[subscribers]]
email = "a@xn--bcher-kva.de"
[[subscribers]]
email = "ＡＢ@example.org"
[[subscribers]]
email = "ab@example.org"
[[subscribers]]
email = "ü@example.org"
[[subscribers]]
email = "ö@example.org"
[[subscribers]]
email = "_@example.org"
[[subscribers]]
email = "{long}"
"""


# 301 bytes: too long for a file name as it is.
LONG = "l" * 64 + "@" + ".".join(["d" * 63] * 3 + ["e" * 40, "org"])


def test_addresses_check_refuses_are_named_and_mail_skips_them(tmp_path):
    site = Site.create(tmp_path, HOSTILE, CONFIG.format(items="posts") + ADDRESSES.format(long=LONG))
    result = site.run("check", code=2)
    for said in ('"\\"a/../b\\"@example.org": a quoted local part cannot be mailed',
                 '"x@[127.0.0.1]": an address at an IP literal cannot be mailed',
                 "nul@example.org: the name holds a control character (U+0000)",
                 "subscriber josé@example.org is listed twice",
                 "subscriber a@xn--bcher-kva.de is listed twice",
                 "subscriber ab@example.org is listed twice"):
        assert said in result.stderr, (said, result.stderr)
    # mail warns about each and mails everyone else, each into a file of their own.
    result = site.run("mail", "--dry-run", "--eml-dir", "eml", "--post", "2025-12-10")
    assert result.stderr.count("(skipped)") == 6, result.stderr
    emls = list((site.path / "eml").iterdir())
    assert len(emls) == 8, sorted(p.name for p in emls)  # reader, josé, bücher, ＡＢ, ü, ö, _, long: one file each
    assert "would send to ö@example.org" in result.stdout


def test_check_names_the_addresses_that_need_smtputf8(tmp_path):
    site = Site.create(tmp_path, HOSTILE, CONFIG.format(items="posts") + '[[subscribers]]\nemail = "김@example.org"\n')
    result = site.run("check")
    assert "1 subscribers can be mailed only through a server that offers SMTPUTF8" in result.stderr, result.stderr
    assert "김@example.org" in result.stderr
