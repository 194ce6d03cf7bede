"""digest-feed dropped into a real Jekyll blog (issue 13): it reads the blog's
_config.yml (url, baseurl, ...), so it needs no config.toml; `init` keeps
every private file where `jekyll build` never publishes it; the feeds land
where the blog serves them, at the URLs their self links name. Real Jekyll
(Debian's jekyll + ruby-jekyll-feed) builds the same folders as the oracle."""

import json
import os
import pathlib
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import ROOT, Site

REAL_BLOGS = ROOT.parent / "shared" / "real-blogs"
PROJECT_PAGES = REAL_BLOGS / "yupengtang__Daily-AI-Trend-Reporter"
ATOM = "{http://www.w3.org/2005/Atom}"
# A page that lists every post Jekyll made, with its absolute URL.
LISTING = """---
layout: null
---
[{% for p in site.posts %}{{ p.url | absolute_url | jsonify }}{% unless forloop.last %},{% endunless %}{% endfor %}]
"""
# Jekyll and digest-feed both read dates without a zone in the machine's zone: fix it.
ENV = {"TZ": "UTC"}


def jekyll_build(site: pathlib.Path) -> None:
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    result = subprocess.run(["jekyll", "build", "--quiet"], cwd=site, capture_output=True, text=True,
                            timeout=600, env={**os.environ, **ENV})
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def project_pages(tmp_path_factory):
    """The project-pages blog (baseurl /Daily-AI-Trend-Reporter), its posts and its own
    _config.yml with jekyll-feed's limit raised to every post, and no config.toml; digest-feed
    builds first (into the blog's folder, its default there), then real Jekyll."""
    if not PROJECT_PAGES.is_dir():
        pytest.fail(f"{PROJECT_PAGES} is missing: the real blogs are in ../shared/real-blogs")
    site = tmp_path_factory.mktemp("project-pages")
    shutil.copytree(PROJECT_PAGES / "_posts", site / "_posts")
    config = (PROJECT_PAGES / "jekyll_min_config.yml").read_text(encoding="utf-8")
    (site / "_config.yml").write_text(config.replace("posts_limit: 30", "posts_limit: 10000"), encoding="utf-8")
    (site / "posts.json").write_text(LISTING, encoding="utf-8")
    ours = Site(site).run("build", env=ENV)
    jekyll_build(site)
    return site, ours


def test_with_no_config_toml_every_link_equals_jekylls_baseurl_included(project_pages):
    site, ours = project_pages
    assert not (site / "config.toml").exists()
    jekyll_urls = json.loads((site / "_site" / "posts.json").read_text(encoding="utf-8"))
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    our_urls = [item["url"] for item in feed["items"]]
    assert len(jekyll_urls) > 500
    assert our_urls == jekyll_urls
    assert all(url.startswith("https://yupengtang.github.io/Daily-AI-Trend-Reporter/") for url in our_urls)
    assert feed["home_page_url"] == "https://yupengtang.github.io/Daily-AI-Trend-Reporter/"


def test_the_feeds_are_served_where_their_self_links_say(project_pages):
    site, _ = project_pages
    base = "https://yupengtang.github.io/Daily-AI-Trend-Reporter/"
    for name in ["feed.xml", "atom.xml", "feed.json"]:
        # jekyll-feed leaves a feed.xml the source already has alone: Jekyll serves ours.
        assert (site / "_site" / name).read_bytes() == (site / name).read_bytes(), name
    rss_self = ET.parse(site / "feed.xml").getroot().find("channel/{http://www.w3.org/2005/Atom}link")
    assert rss_self.get("href") == base + "feed.xml"
    atom_self = [link.get("href") for link in ET.parse(site / "atom.xml").getroot().findall(f"{ATOM}link")
                 if link.get("rel") == "self"]
    assert atom_self == [base + "atom.xml"]
    assert json.loads((site / "feed.json").read_text(encoding="utf-8"))["feed_url"] == base + "feed.json"


def test_init_in_a_jekyll_blog_publishes_nothing_private(tmp_path):
    blog = tmp_path / "blog"
    (blog / "_posts").mkdir(parents=True)
    (blog / "_config.yml").write_text(
        "title: My Blog\nurl: https://blog.example.org\nbaseurl: /notes\nplugins:\n  - jekyll-feed\n", encoding="utf-8")
    (blog / "_posts" / "2025-03-04-hello.md").write_text("---\ntitle: Hello\n---\nHi.\n", encoding="utf-8")
    site = Site(blog)
    first = site.run("init", env=ENV)
    assert "_digest-feed/config.toml" in first.stdout
    # No post of ours in the blog's _posts, and a second init keeps everything as it is.
    assert [p.name for p in (blog / "_posts").iterdir()] == ["2025-03-04-hello.md"]
    second = site.run("init", env=ENV)
    assert "created" not in second.stdout
    assert [p.name for p in (blog / "_posts").iterdir()] == ["2025-03-04-hello.md"]
    # A list and a delivery state, as a real site has them.
    private = blog / "_digest-feed"
    (private / "subscribers.csv").write_text("email,name,tags\nkim@example.org,Kim,\n", encoding="utf-8")
    config = (private / "config.toml").read_text(encoding="utf-8")
    (private / "config.toml").write_text(config.replace("# subscribers_file", "subscribers_file"), encoding="utf-8")
    check = site.run("check", env=ENV)
    assert "warning" not in check.stderr, check.stderr
    assert "2 subscribers" in check.stdout
    site.run("mail", "--dry-run", env=ENV)
    site.run("build", env=ENV)
    # A page whose head names the feeds through the include init wrote.
    (blog / "index.html").write_text("---\n---\n<head>{% include digest-feed-links.html %}</head>\n", encoding="utf-8")
    jekyll_build(blog)

    published = sorted(str(p.relative_to(blog / "_site")) for p in (blog / "_site").rglob("*") if p.is_file())
    assert published == ["2025/03/04/hello.html", "atom.xml", "feed.json", "feed.xml", "feeds.html", "index.html"], \
        published
    links = site.run("links", env=ENV).stdout.strip()
    assert links.count("<link ") == 3 and "https://blog.example.org/notes/atom.xml" in links
    assert (blog / "_site" / "index.html").read_text(encoding="utf-8").strip() == f"<head>{links}\n</head>"
    page = (blog / "_site" / "feeds.html").read_text(encoding="utf-8")
    assert "https://blog.example.org/notes/feed.json" in page and "Hello" in page and "<script" not in page
    for path in (blog / "_site").rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert b"kim@example.org" not in text and b"reader@example.org" not in text, path
    rss_self = ET.parse(blog / "_site" / "feed.xml").getroot().find("channel/{http://www.w3.org/2005/Atom}link")
    assert rss_self.get("href") == "https://blog.example.org/notes/feed.xml"


def test_check_warns_of_a_private_file_the_blog_would_publish(tmp_path):
    blog = tmp_path / "blog"
    (blog / "_posts").mkdir(parents=True)
    (blog / "_config.yml").write_text("url: https://blog.example.org\n", encoding="utf-8")
    (blog / "subscribers.csv").write_text("email\nkim@example.org\n", encoding="utf-8")
    (blog / "config.toml").write_text(
        '[email]\nfrom = "Blog <blog@example.org>"\nsubscribers_file = "subscribers.csv"\nstate = "_state/state.db"\n',
        encoding="utf-8")
    check = Site(blog).run("check", env=ENV)
    warned = [line for line in check.stderr.splitlines() if line.startswith("warning:")]
    assert warned == [
        "warning: config.toml: `jekyll build` would publish it with the blog; move it into _digest-feed/ "
        "(Jekyll skips folders that start with `_`) or add it to `exclude` in _config.yml",
        "warning: subscribers.csv: `jekyll build` would publish it with the blog; move it into _digest-feed/ "
        "(Jekyll skips folders that start with `_`) or add it to `exclude` in _config.yml",
    ], check.stderr
    (blog / "_config.yml").write_text("url: https://blog.example.org\nexclude: [config.toml, subscribers.csv]\n",
                                      encoding="utf-8")
    assert "warning" not in Site(blog).run("check", env=ENV).stderr


def test_check_sees_private_files_where_jekyll_does(tmp_path):
    """`..` resolved: a file beside _digest-feed/ is in the blog (published), a Maildir beside the blog is not."""
    blog = tmp_path / "blog"
    (blog / "_posts").mkdir(parents=True)
    (blog / "_digest-feed").mkdir()
    (blog / "_config.yml").write_text("url: https://blog.example.org\n", encoding="utf-8")
    (blog / "subscribers.csv").write_text("email\nkim@example.org\n", encoding="utf-8")
    for folder in ["new", "cur", "tmp"]:
        (tmp_path / "Maildir" / folder).mkdir(parents=True)
    (blog / "_digest-feed" / "config.toml").write_text(
        '[email]\nfrom = "Blog <blog@example.org>"\nsubscribers_file = "../subscribers.csv"\n'
        '[list]\naddress = "list@example.org"\n[inbox]\nmaildir = "../../Maildir"\n', encoding="utf-8")
    check = Site(blog).run("--config", "_digest-feed/config.toml", "check", env=ENV)
    warned = [line for line in check.stderr.splitlines() if line.startswith("warning:")]
    assert warned == [
        "warning: _digest-feed/../subscribers.csv: `jekyll build` would publish it with the blog; move it into "
        "_digest-feed/ (Jekyll skips folders that start with `_`) or add it to `exclude` in _config.yml",
    ], check.stderr
