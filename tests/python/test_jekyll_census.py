"""What real Jekyll blogs do that digest-feed once refused or read otherwise, one post each
(tests/fixtures/jekyll-census): real Jekyll 4.3 and digest-feed build the same folder, and every
post, URL, instant, title, tag and id must be Jekyll's (jekyll-feed's `post.id | absolute_url`)."""

import json
import os
import shutil
import subprocess

import pytest

from helpers import FIXTURES, Site, config, mail
from test_jekyll import REAL_LISTING, _compare

CENSUS = FIXTURES / "jekyll-census"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(Jekyll's posts, its stderr, our feed, our build, our check) of the census blog."""
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    theirs = tmp_path_factory.mktemp("jekyll") / "blog"
    shutil.copytree(CENSUS, theirs)
    (theirs / "posts.json").write_text(REAL_LISTING, encoding="utf-8")
    built = subprocess.run(["jekyll", "build"], cwd=theirs, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "TZ": "UTC"})
    assert built.returncode == 0, built.stderr
    jekyll = json.loads((theirs / "_site" / "posts.json").read_text(encoding="utf-8"))
    ours = tmp_path_factory.mktemp("ours") / "blog"
    shutil.copytree(CENSUS, ours)
    (ours / "config.toml").write_text("[feed]\nlimit = 1000\n", encoding="utf-8")
    site = Site(ours)
    # Jekyll's process zone is the site's; the machine's must not matter.
    build = site.run("build", env={"TZ": "Asia/Seoul"})
    check = site.run("check", env={"TZ": "Asia/Seoul"})
    feed = json.loads((ours / "feed.json").read_text(encoding="utf-8"))
    return jekyll, built.stdout + built.stderr, feed, build, check


def test_every_post_jekyll_builds_is_published_as_jekyll_publishes_it(builds):
    jekyll, _, feed, _, _ = builds
    report = _compare(jekyll, feed)
    for kind in ("missing", "date", "title", "tags", "id", "links", "markers"):
        assert report[kind] == [], (kind, report[kind])
    assert report["items"] == report["posts"] == 22
    titles = {item["title"] for item in feed["items"]}
    assert {"No Front Matter", "Untitled Post", "Published flase", "The later title wins", "Empty",
            "Unclosed Front Matter"} <= titles
    assert "Not published" not in titles and "Undated notes" not in titles


def test_posts_sharing_a_url_each_keep_an_id_of_their_own(builds):
    jekyll, jekyll_said, feed, build, check = builds
    assert "Conflict: The following destination is shared by multiple files." in jekyll_said
    assert "error" not in build.stderr.lower()
    shared = sorted((item for item in feed["items"] if item["url"].endswith("/posts/daily-papers/")),
                    key=lambda item: item["date_published"])
    assert [item["id"] for item in shared] == [
        "https://census.example.org/posts/daily-papers",
        "https://census.example.org/posts/2025-01-02-daily-papers",
        "https://census.example.org/posts/2025-01-03-daily-papers",
    ]
    # At URLs of their own, jekyll-feed still gives the two March digests one id.
    march = sorted(item["id"] for item in feed["items"] if "/papers/" in item["url"])
    assert march == ["https://census.example.org/papers/2025-03-02-daily-papers",
                     "https://census.example.org/papers/daily-papers"]
    assert ("warning: _posts/2025-01-01-daily-papers.md: Conflict: the URL https://census.example.org/posts/daily-papers/ "
            "is shared by 3 posts (_posts/2025-01-01-daily-papers.md, _posts/2025-01-02-daily-papers.md, "
            "_posts/2025-01-03-daily-papers.md); Jekyll writes one page over the others.") in check.stderr


def test_check_says_what_jekyll_would_and_refuses_nothing(builds):
    *_, check = builds
    for said in [
        "warning: _config.yml:12: `kramdown` is written twice; the later value is used, as Jekyll does",
        "warning: _config.yml:15: `title` is written twice; the later value is used, as Jekyll does",
        'warning: _config.yml: timezone "fr" is no time zone this machine knows; dates are read in UTC, as Jekyll reads them',
        "warning: _posts/2025-02-06-key-twice.md:3: front matter: `title` is written twice; the later value is used, as Jekyll does",
        "warning: _posts/notes.md: not a post: Jekyll reads only files named YYYY-MM-DD-title in _posts, so it is left out",
        "warning: _posts/2025-03-01-daily-papers.md: jekyll-feed gives 2 posts the id "
        "https://census.example.org/papers/daily-papers (the same folder and slug), so a feed reader shows one of them; "
        "this, the oldest, keeps it, and each later one has an id of its own, made from its file name (the first: "
        "https://census.example.org/papers/2025-03-02-daily-papers)",
        "warning: _posts/2025-02-10-unclosed-front-matter.md:1: front matter opened here is never closed by a `---` "
        "line: Jekyll reads the whole file as the post's text, titled from the file name",
    ]:
        assert said in check.stderr, check.stderr
    assert "config and 23 post files are valid (22 published now)" in check.stdout, check.stdout


def test_posts_sharing_a_url_are_each_mailed_once_saying_with_which_url(tmp_path, server):
    posts = tmp_path / "posts"
    posts.mkdir()
    for day in ("01", "02"):
        (posts / f"2025-01-{day}-daily-papers.md").write_text(
            f"---\ntitle: Papers of January {day}\n---\nToday's papers.\n", encoding="utf-8")
    text = config(server.port, connections=1, retries=0, site='permalink = "/posts/:title/"\n')
    site = Site.create(tmp_path / "site", posts, text + '\n[[subscribers]]\nemail = "kim@example.org"\n')
    # The first run mails the newest, which shares its URL with the older post.
    result = mail(site)
    assert ('_posts/2025-01-02-daily-papers.md: "Papers of January 02" delivered to 1 of 1 recipient '
            "(mailed with the URL https://papers.example.org/posts/daily-papers/, which "
            "_posts/2025-01-01-daily-papers.md has too)") in result.stdout, result.stdout
    # The older one, asked for, is its own post: mailed once, then never again.
    mail(site, "--post", "_posts/2025-01-01-daily-papers.md")
    assert mail(site, "--post", "_posts/2025-01-01-daily-papers.md").stdout.count("delivered to 0") == 1
    assert mail(site).stdout.startswith("Nothing new to mail")
    subjects = sorted(message["Subject"] for _, message, _ in server.recorder.messages())
    assert subjects == ["Papers of January 01", "Papers of January 02"]
