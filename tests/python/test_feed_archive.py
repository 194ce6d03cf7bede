"""`feed.archive = true`: atom.xml and feed.json page back (RFC 5005
`prev-archive`, JSON Feed `next_url`) through archive/N.xml and N.json;
a reader following them reaches every post once, feedparser and the W3C
feed validator read every page, and a new post changes no full page."""

import json
import pathlib
import sys

import feedparser
import pytest

from helpers import ROOT, Site, add_post

SITE_URL = "https://papers.example.org"
LIMIT = 3
VALIDATOR = ROOT.parent / "shared" / "tools" / "feedvalidator"

CONFIG = f"""\
[site]
title = "Daily Papers"
url = "{SITE_URL}"
timezone = "Asia/Seoul"
author = "Papers Bot <papers@example.org>"

[feed]
limit = {LIMIT}
archive = true
"""


def archived_site(path: pathlib.Path, count: int) -> Site:
    posts = path / "posts-source"
    posts.mkdir()
    site = Site.create(path / "site", posts, CONFIG)
    for day in range(1, count + 1):
        add_post_on(site, day)
    return site


def add_post_on(site: Site, day: int):
    add_post(site, f"2025-12-{day:02}-daily.md", f"Daily Papers — Dec {day}", f"2025-12-{day:02} 08:00:00")


def local(site: Site, url: str, base: str) -> pathlib.Path:
    assert url.startswith(base + "/"), url
    return site.out(url[len(base) + 1:])


def atom_walk(site: Site, base: str = SITE_URL) -> list[tuple[pathlib.Path, feedparser.FeedParserDict]]:
    """Every Atom document from atom.xml back through prev-archive, newest first."""
    pages = []
    path = site.out("atom.xml")
    while path is not None:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
        pages.append((path, parsed))
        older = [link.href for link in parsed.feed.links if link.rel == "prev-archive"]
        path = local(site, older[0], base) if older else None
        assert len(pages) < 100, "prev-archive loops"
    return pages


def json_walk(site: Site, base: str = SITE_URL) -> list[dict]:
    pages = []
    path = site.out("feed.json")
    while path is not None:
        page = json.loads(path.read_text(encoding="utf-8"))
        pages.append(page)
        path = local(site, page["next_url"], base) if "next_url" in page else None
        assert len(pages) < 100, "next_url loops"
    return pages


def titles(count: int) -> list[str]:
    return [f"Daily Papers — Dec {day}" for day in range(count, 0, -1)]


def test_paging_back_reaches_every_post_exactly_once(tmp_path):
    site = archived_site(tmp_path, 8)
    assert "Archive: 2 pages in public/archive" in site.build().stdout
    pages = atom_walk(site)
    seen = [entry.title for _, parsed in pages for entry in parsed.entries]
    assert seen == titles(8), "newest first, each post once"
    # The subscription feed holds the newest feed.limit posts, as without archiving.
    assert [e.title for e in pages[0][1].entries] == titles(8)[:LIMIT]
    assert [p.name for p, _ in pages] == ["atom.xml", "2.xml", "1.xml"]
    for path, parsed in pages[1:]:
        rels = {link.rel: link.href for link in parsed.feed.links}
        assert rels["current"] == f"{SITE_URL}/atom.xml", path
        assert b"<fh:archive" in path.read_bytes(), path
    assert "next-archive" in {link.rel for link in pages[2][1].feed.links}, "a full page links forward"

    json_pages = json_walk(site)
    assert [item["title"] for page in json_pages for item in page["items"]] == titles(8)
    assert all(page["feed_url"] == f"{SITE_URL}/feed.json" for page in json_pages)


def snapshot(site: Site) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(site.out("archive").iterdir())}


def full_pages(site: Site) -> set[str]:
    """The archive pages holding feed.limit posts, XML and JSON."""
    full = set()
    for path in site.out("archive").glob("*.json"):
        if len(json.loads(path.read_text(encoding="utf-8"))["items"]) == LIMIT:
            full |= {path.name, path.with_suffix(".xml").name}
    return full


def test_adding_a_post_changes_no_full_archive_page(tmp_path):
    site = archived_site(tmp_path, 6)
    site.build()
    for day in range(7, 14):
        before, full = snapshot(site), full_pages(site)
        add_post_on(site, day)
        site.build()
        after = snapshot(site)
        assert full, f"{day}: no full page yet"
        for name in full:
            assert after[name] == before[name], f"post {day} changed the full page {name}"
        changed = {name for name in after if before.get(name) != after[name]}
        assert len(changed - full) <= 4, f"post {day} changed {sorted(changed)}: more than the unfinished page"
        assert [e.title for _, p in atom_walk(site) for e in p.entries] == titles(day)
        assert [i["title"] for page in json_walk(site) for i in page["items"]] == titles(day)


def test_pages_of_posts_since_unpublished_are_removed(tmp_path):
    site = archived_site(tmp_path, 9)
    site.build()
    pages = lambda: sorted(p.name for p in site.out("archive").iterdir())  # noqa: E731
    assert pages() == ["1.json", "1.xml", "2.json", "2.xml", "3.json", "3.xml"]
    for days, left in [((9, 8), ["1.json", "1.xml", "2.json", "2.xml"]), ((7, 6), ["1.json", "1.xml"]), ((5, 4), [])]:
        for day in days:
            (site.path / "_posts" / f"2025-12-{day:02}-daily.md").unlink()
        site.build()
        assert pages() == left, days
        assert [e.title for _, p in atom_walk(site) for e in p.entries] == titles(min(days) - 1)


@pytest.fixture(scope="module")
def feedvalidator():
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR} is missing: the W3C feed validator the tests read (see shared/tools/README.md)")
    sys.path.insert(0, str(VALIDATOR))
    import feedvalidator as validator
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter

    def problems(path: pathlib.Path, url: str) -> list[str]:
        with path.open("rb") as stream:
            events = validator.validateStream(stream, firstOccurrenceOnly=1, contentType="application/atom+xml",
                                              base=url)["loggedEvents"]
        return list(Formatter(compatibility.AA(events)))

    return problems


def test_the_w3c_validator_finds_every_atom_page_valid(tmp_path, feedvalidator):
    # 9 posts: two full pages and an empty unfinished one, the edge case.
    site = archived_site(tmp_path, 9)
    site.build()
    pages = atom_walk(site)
    assert [p.name for p, _ in pages] == ["atom.xml", "3.xml", "2.xml", "1.xml"]
    assert pages[1][1].entries == []
    for path, _ in pages:
        url = f"{SITE_URL}/{path.relative_to(site.out('.')).as_posix()}"
        assert feedvalidator(path, url) == [], path


REAL_BLOG = ROOT.parent / "shared" / "real-blogs" / "yupengtang__Daily-AI-Trend-Reporter"


def test_a_real_daily_digest_pages_back_through_all_its_posts(tmp_path, feedvalidator):
    # 503 daily posts: every one reached once from atom.xml and from feed.json, in the
    # order the unarchived feed lists them, and every Atom page valid.
    if not REAL_BLOG.exists():
        pytest.fail(f"{REAL_BLOG} is missing: the real blogs are in ../shared/real-blogs")
    url = "https://yupengtang.github.io/Daily-AI-Trend-Reporter"
    config = f'[site]\ntitle = "Daily AI"\nurl = "{url}"\ntimezone = "UTC"\n[feed]\nlimit = {{limit}}\n{{more}}'
    whole = Site.create(tmp_path / "whole", REAL_BLOG / "_posts", config.format(limit=10000, more=""))
    whole.build()
    everything = [item["id"] for item in json.loads(whole.out("feed.json").read_text(encoding="utf-8"))["items"]]
    assert len(everything) > 400

    site = Site.create(tmp_path / "paged", REAL_BLOG / "_posts", config.format(limit=20, more="archive = true\n"))
    site.build()
    pages = atom_walk(site, url)
    assert [entry.id for _, parsed in pages for entry in parsed.entries] == everything
    assert [item["id"] for page in json_walk(site, url) for item in page["items"]] == everything
    assert len(pages) == 1 + (len(everything) - 20) // 20 + 1
    for path, _ in pages:
        page_url = f"{url}/{path.relative_to(site.out('.')).as_posix()}"
        assert feedvalidator(path, page_url) == [], path
