"""The feeds as software nobody here wrote reads them: W3C's feedvalidator,
Debian's rss2email (which mails each item), and the checks a reader's view
depends on (an author on every entry as jekyll-feed names it, papers that
point back to their post, no empty feed, no change before publication,
task states, code blocks whole), on the bundled example and the real blogs."""

import email
import email.policy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime

import pytest
from lxml import etree

from helpers import EXAMPLE_POSTS, ROOT, Site
from smtp_server import SmtpServer
from test_feeds import CONFIG, EXAMPLE_PAPER_URLS, json_feed
from test_jekyll import REAL_BLOGS, _jekyll_build

TOOLS = ROOT.parent / "shared" / "tools"
ATOM = "{http://www.w3.org/2005/Atom}"
SITE_URL = "https://papers.example.org"
# Each post of the example as a subscriber must see it whole: what its email has to hold.
WHOLE_POSTS = {
    "Daily Papers — 2025-12-24": ["SAM Audio: Segment Anything in Audio",
                                  "Toxicity Ahead: Forecasting Conversational Derailment on GitHub",
                                  "Learning to Refocus with Video Diffusion Models"],
    "Daily Papers — 2025-12-23": ["Scaling Laws for Sparse Mixture-of-Experts",
                                  "Robust Video Depth from a Single Camera", "a ]]> inside code stays text"],
    "Notes: reading list & errata": ["☑ fix broken arXiv links", "☐", "Thanks to the readers who wrote in."],
}


def example_site(make_site, items: str) -> tuple[Site, subprocess.CompletedProcess]:
    site = make_site(EXAMPLE_POSTS, CONFIG.format(limit=20, items=items))
    return site, site.build()


def xml_feeds(site: Site) -> list:
    return sorted(site.out("").rglob("*.xml"))


def feedvalidator():
    """W3C's feedvalidator, read from the shared tools (never copied here)."""
    path = TOOLS / "feedvalidator"
    if not (path / "feedvalidator" / "__init__.py").exists():
        pytest.fail(f"{path} is missing: the W3C feedvalidator's Python package is read from there")
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import feedvalidator as validator
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter
    return validator, compatibility, Formatter


@pytest.mark.parametrize("items", ["posts", "papers"])
def test_every_rss_and_atom_feed_of_the_example_is_valid_without_warnings(make_site, items):
    validator, compatibility, Formatter = feedvalidator()
    site, _ = example_site(make_site, items)
    feeds = xml_feeds(site)
    assert len(feeds) >= 6
    messages = {}
    for path in feeds:
        relative = path.relative_to(site.out("")).as_posix()
        kind = "application/atom+xml" if path.name == "atom.xml" else "application/rss+xml"
        with open(path, "rb") as stream:
            events = validator.validateStream(stream, firstOccurrenceOnly=1, contentType=kind,
                                              base=f"{SITE_URL}/{relative}")["loggedEvents"]
        # AA: errors and warnings both (the validator's own "valid, but…" list).
        found = list(Formatter(compatibility.AA(events)))
        if found:
            messages[relative] = found
    assert messages == {}


def rss2email(feed, tmp_path) -> list:
    """Debian's rss2email (r2e) run once on `feed` into a local SMTP server: the emails, in order."""
    if shutil.which("r2e") is None:
        pytest.fail("r2e is not installed: scripts/test installs Debian's rss2email package")
    config, data = tmp_path / "r2e.cfg", tmp_path / "r2e.json"
    with SmtpServer() as smtp:
        # rss2email's defaults otherwise: plain-text mail (html-mail = False), as most users keep it.
        config.write_text(f"[DEFAULT]\nto = reader@example.org\nfrom = r2e@example.org\nemail-protocol = smtp\n"
                          f"smtp-server = 127.0.0.1:{smtp.port}\nsmtp-auth = False\nsmtp-ssl = False\n",
                          encoding="utf-8")
        for command in (["add", "example", feed.as_uri()], ["run"]):
            result = subprocess.run(["r2e", "-c", str(config), "-d", str(data), *command], capture_output=True,
                                    text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
            assert result.returncode == 0 and "[ERROR]" not in result.stderr, result.stderr
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, raw in smtp.recorder.raw]


def squashed(text: str) -> str:
    """Text without white space or table bars: rss2email wraps lines (at hyphens too) and draws tables."""
    return re.sub(r"[\s|]", "", text)


@pytest.mark.parametrize("name", ["atom.xml", "feed.xml"])
def test_rss2email_mails_each_post_whole(make_site, tmp_path, name):
    site, _ = example_site(make_site, "posts")
    mails = rss2email(site.out(name), tmp_path)
    bodies = {str(mail["Subject"]): mail.get_body(("plain",)).get_content() for mail in mails}
    assert sorted(bodies) == sorted(WHOLE_POSTS)
    for subject, must in WHOLE_POSTS.items():
        text = squashed(bodies[subject])
        missing = [words for words in must if squashed(words) not in text]
        assert missing == [], (name, subject, bodies[subject])
    # The sender rss2email writes names the entry's author.
    assert all("Papers Bot" in str(mail["From"]) for mail in mails)
    print(f"\nrss2email from {name}: " + ", ".join(f"{s[-10:]} {len(b)} characters" for s, b in bodies.items()))


@pytest.mark.parametrize("name", ["atom.xml", "feed.xml"])
def test_rss2email_mails_each_paper_whole(make_site, tmp_path, name):
    site, _ = example_site(make_site, "papers")
    feed = json_feed(site.out("feed.json"))
    mails = rss2email(site.out(name), tmp_path)
    assert len(mails) == len(feed["items"]) == 5
    for mail in mails:
        item = next(i for i in feed["items"] if i["title"] == str(mail["Subject"]))
        body = squashed(mail.get_body(("plain",)).get_content())
        # The paper's own words, not a one-line summary: its summary and its content's last words.
        last_words = re.sub(r"<[^>]+>", " ", item["content_html"]).split()[-3:]
        assert squashed(item["summary"]) in body and squashed(" ".join(last_words)) in body, body


def newsboat(feed, tmp_path) -> list:
    """Debian's newsboat (its own parser) reloading `feed`: (title, author) of each item it keeps."""
    if shutil.which("newsboat") is None:
        pytest.fail("newsboat is not installed: scripts/test installs Debian's newsboat package")
    urls, cache = tmp_path / f"urls-{feed.name}", tmp_path / f"cache-{feed.name}.db"
    urls.write_text(feed.as_uri() + "\n", encoding="utf-8")
    result = subprocess.run(["newsboat", "-u", str(urls), "-c", str(cache), "-x", "reload"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(cache)) as db:
        return db.execute("SELECT title, author FROM rss_item ORDER BY pubDate DESC, id").fetchall()


@pytest.mark.parametrize("items", ["posts", "papers"])
def test_newsboat_shows_an_author_on_every_item(make_site, tmp_path, items):
    site, _ = example_site(make_site, items)
    titles = [item["title"] for item in json_feed(site.out("feed.json"))["items"]]
    for name in ("atom.xml", "feed.xml"):
        shown = newsboat(site.out(name), tmp_path)
        # In the feed's order: papers are a second apart, so a reader sorting by date keeps it.
        assert [title for title, _ in shown] == titles, name
        assert {author for _, author in shown} == {"Papers Bot"}, (name, shown)


# --- What a reader shows: the same checks newsboat's view depends on, in lxml ---


def atom_entries(path) -> list:
    return etree.parse(str(path)).getroot().findall(f"{ATOM}entry")


def entry_author(entry) -> str:
    return entry.findtext(f"{ATOM}author/{ATOM}name", default="")


def test_papers_point_back_to_their_post_and_keep_their_order(make_site):
    site, _ = example_site(make_site, "papers")
    items = json_feed(site.out("feed.json"))["items"]
    # JSON Feed: `url` the page on the site (the post, at the paper's heading), `external_url` the paper.
    assert [item["external_url"] for item in items] == EXAMPLE_PAPER_URLS
    for item in items:
        post = item["id"].split("#")[0]
        assert item["url"].startswith(post + "#") and item["url"] != item["id"], item
    rss = etree.parse(str(site.out("feed.xml"))).getroot().findall("channel/item")
    assert [i.findtext("comments") for i in rss] == [item["url"] for item in items]
    entries = atom_entries(site.out("atom.xml"))
    related = [e.find(f"{ATOM}link[@rel='related']").get("href") for e in entries]
    assert related == [item["url"] for item in items]
    # Distinct times, newest first, so a reader sorting by date keeps the digest's order.
    updated = [datetime.fromisoformat(e.findtext(f"{ATOM}updated")) for e in entries]
    assert updated == sorted(updated, reverse=True) and len(set(updated)) == len(updated)
    published = [datetime.fromisoformat(item["date_published"]) for item in items]
    assert published == sorted(published, reverse=True) and len(set(published)) == len(published)


def test_no_feed_without_items_and_no_epoch(make_site):
    site, result = example_site(make_site, "papers")
    # The "meta" tag's only post (the notes) has no papers.
    assert not site.out("tags/meta").exists()
    assert "tags/meta/" not in site.out("feeds.html").read_text(encoding="utf-8")
    assert "tags/meta/" not in site.run("links").stdout
    said = [line for line in result.stdout.splitlines() if "meta" in line]
    assert said == ["No feeds for 1 tag (their posts have no papers): meta"], result.stdout
    # With --json the one JSON object says it, and stdout holds nothing else.
    assert json.loads(site.build("--json").stdout)["tags_without_items"] == ["meta"]
    for path in site.out("").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "1970" not in text, path
    for path in xml_feeds(site):
        if path.name == "atom.xml":
            assert atom_entries(path), path
        else:
            assert etree.parse(str(path)).getroot().findall("channel/item"), path


def test_a_site_of_posts_without_papers_dates_its_empty_feed_by_its_newest_post(make_site, tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "2025-12-20-notes.md").write_text("---\ntitle: Notes\ndate: 2025-12-20 09:00:00 +09:00\n---\n\nNo papers.\n",
                                              encoding="utf-8")
    site = make_site(posts, CONFIG.format(limit=20, items="papers"))
    site.build()
    feed = etree.parse(str(site.out("atom.xml"))).getroot()
    assert feed.findtext(f"{ATOM}updated") == "2025-12-20T09:00:00+09:00"


def test_updated_is_never_before_published(make_site, tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "2025-12-20-slip.md").write_text(
        "---\ntitle: A slip\ndate: 2025-12-20 09:00:00 +09:00\nlast_modified_at: 2025-12-19 09:00:00 +09:00\n---\n\nText.\n",
        encoding="utf-8")
    (posts / "2025-12-21-fixed.md").write_text(
        "---\ntitle: Fixed later\ndate: 2025-12-21 09:00:00 +09:00\nlast_modified_at: 2025-12-22 10:00:00 +09:00\n---\n\nText.\n",
        encoding="utf-8")
    site = make_site(posts, CONFIG.format(limit=20, items="posts"))
    site.build()
    entries = {e.findtext(f"{ATOM}title"): e for e in atom_entries(site.out("atom.xml"))}
    slip = entries["A slip"]
    assert slip.findtext(f"{ATOM}updated") == slip.findtext(f"{ATOM}published") == "2025-12-20T09:00:00+09:00"
    assert entries["Fixed later"].findtext(f"{ATOM}updated") == "2025-12-22T10:00:00+09:00"
    items = {i["title"]: i for i in json_feed(site.out("feed.json"))["items"]}
    assert "date_modified" not in items["A slip"]
    assert items["Fixed later"]["date_modified"] == "2025-12-22T10:00:00+09:00"


def test_task_states_show_as_text_and_code_stays_whole(make_site):
    site, _ = example_site(make_site, "posts")
    feed = json_feed(site.out("feed.json"))
    notes = next(i for i in feed["items"] if i["title"].startswith("Notes"))
    assert "<li>☑ fix broken arXiv links</li>" in notes["content_html"]
    assert "<li>☐ <del>weekly summary</del> moved to Sundays</li>" in notes["content_html"]
    for item in feed["items"]:
        assert "<input" not in item["content_html"]
        for block in re.findall(r"<pre.*?</pre>", item["content_html"], re.S):
            assert "<p>" not in block, item["title"]


def test_every_entry_names_an_author_in_every_format(make_site):
    site, _ = example_site(make_site, "posts")
    for entry in atom_entries(site.out("atom.xml")):
        assert entry_author(entry) == "Papers Bot"
    for item in etree.parse(str(site.out("feed.xml"))).getroot().findall("channel/item"):
        assert item.findtext("author") == "papers@example.org (Papers Bot)"
    for item in json_feed(site.out("feed.json"))["items"]:
        assert item["authors"] == [{"name": "Papers Bot"}]


# --- The real blogs: each entry's author equals jekyll-feed's ---

_JEKYLL = {}


@pytest.fixture(scope="module")
def jekyll_feed(tmp_path_factory):
    """jekyll-feed's feed.xml of a real blog, built by test_jekyll's Jekyll build once per module."""

    def built(blog: str):
        if blog not in _JEKYLL:
            site = tmp_path_factory.mktemp("jekyll")
            _jekyll_build(blog, site)
            # jekyll-feed's path: feed.xml, or where the blog's `feed.path` puts it.
            path = next(p for p in (site / "_site" / "feed.xml", site / "_site" / "atom.xml") if p.exists())
            _JEKYLL[blog] = etree.parse(str(path)).getroot()
        return _JEKYLL[blog]

    return built


def our_real_feed(blog: str, site) -> tuple:
    """digest-feed on the blog's posts with its jekyll_min_config.yml as _config.yml: (Atom root, JSON)."""
    shutil.copytree(REAL_BLOGS / blog / "_posts", site / "_posts")
    shutil.copy(REAL_BLOGS / blog / "jekyll_min_config.yml", site / "_config.yml")
    (site / "config.toml").write_text("[feed]\nlimit = 10000\n", encoding="utf-8")
    Site(site).run("build", env={"TZ": "UTC"})
    return etree.parse(str(site / "atom.xml")).getroot(), json_feed(site / "feed.json")


# Real blogs with `author:`, `authors:` lists, a site author with an address, and no author at all.
AUTHOR_BLOGS = ["colemanm__colemanm.org", "hyperconnect__hyperconnect.github.io", "jekyll__jekyll",
                "yupengtang__Daily-AI-Trend-Reporter"]


@pytest.mark.parametrize("blog", AUTHOR_BLOGS)
def test_every_entry_names_the_author_jekyll_feed_names(blog, jekyll_feed, tmp_path):
    theirs = jekyll_feed(blog).findall(f"{ATOM}entry")
    ours, _ = our_real_feed(blog, tmp_path)
    title = ours.findtext(f"{ATOM}title")
    by_link = {e.find(f"{ATOM}link[@rel='alternate']").get("href"): e for e in ours.findall(f"{ATOM}entry")}
    assert all(entry_author(e) for e in by_link.values()), "an entry without an author"
    compared = named = 0
    for entry in theirs:
        link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        expected = entry_author(entry).strip()
        # jekyll-feed writes an empty name when neither the post nor the site names anyone;
        # digest-feed names the site then, as the feed's own author does.
        assert entry_author(by_link[link]) == (expected or title), link
        email = f"{ATOM}author/{ATOM}email"
        assert by_link[link].findtext(email) == entry.findtext(email), link
        compared += 1
        named += bool(expected)
    print(f"\n{blog}: {compared} entries' authors equal jekyll-feed's ({named} named by the post or site)")
    assert compared >= 10


# hyperconnect's `{% highlight %}` with blank lines inside <details> once put eight <p> in its code.
@pytest.mark.parametrize("blog", AUTHOR_BLOGS)
def test_no_paragraph_inside_preformatted_code(blog, tmp_path):
    _, feed = our_real_feed(blog, tmp_path)
    broken = [item["url"] for item in feed["items"]
              for block in re.findall(r"<pre.*?</pre>", item["content_html"], re.S) if "<p>" in block]
    assert broken == []


def test_authors_data_and_lists_name_the_author_jekyll_feed_names(tmp_path):
    """A blog with `_data/authors.yml`, `authors:` lists and a site author, built by Jekyll +
    jekyll-feed and by digest-feed: every entry's author name and email alike."""
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_data").mkdir()
    (tmp_path / "_config.yml").write_text(
        "title: Team Blog\nurl: https://team.example.org\ntimezone: UTC\nplugins:\n  - jekyll-feed\n"
        "author:\n  name: The Team\n  email: team@example.org\n", encoding="utf-8")
    (tmp_path / "_data" / "authors.yml").write_text(
        "ray:\n  name: Ray Kim\n  email: ray@example.org\ngom:\n  name: Gom Lee\n", encoding="utf-8")
    posts = {
        "2025-12-01-one.md": "author: ray",
        "2025-12-02-two.md": "authors: [gom, ray]",
        "2025-12-03-three.md": "authors:\n  - nobody.listed\n  - ray",
        "2025-12-04-four.md": 'authors: "Dao et al., 2022"',
        "2025-12-05-five.md": "tags: [x]",
        "2025-12-06-six.md": "author: ray\nauthors: [gom]",
    }
    for name, front in posts.items():
        (tmp_path / "_posts" / name).write_text(f"---\ntitle: {name[11:-3]}\n{front}\n---\n\nText.\n",
                                                encoding="utf-8")
    built = subprocess.run(["jekyll", "build", "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "TZ": "UTC"})
    assert built.returncode == 0, built.stderr

    def authors(root):
        return {e.findtext(f"{ATOM}title"): (entry_author(e).strip(), e.findtext(f"{ATOM}author/{ATOM}email"))
                for e in root.findall(f"{ATOM}entry")}

    theirs = authors(etree.parse(str(tmp_path / "_site" / "feed.xml")).getroot())
    (tmp_path / "config.toml").write_text("[feed]\nout = \"ours\"\n", encoding="utf-8")
    Site(tmp_path).run("build")
    ours = authors(etree.parse(str(tmp_path / "ours" / "atom.xml")).getroot())
    assert ours == theirs
    assert theirs["one"] == ("Ray Kim", "ray@example.org") and theirs["two"] == ("Gom Lee", None)
    assert theirs["four"] == ("The Team", "team@example.org")
    rss = {i.findtext("title"): (i.findtext("author"), i.findtext("{http://purl.org/dc/elements/1.1/}creator"))
           for i in etree.parse(str(tmp_path / "ours" / "feed.xml")).getroot().findall("channel/item")}
    assert rss["one"] == ("ray@example.org (Ray Kim)", None) and rss["two"] == (None, "Gom Lee")
