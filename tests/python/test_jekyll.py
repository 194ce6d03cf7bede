"""Real Jekyll (Debian's jekyll package) builds the same posts; every URL,
date, tag and category in digest-feed's feeds must equal Jekyll's."""

import json
import shutil
import subprocess
from datetime import datetime

import pytest

from helpers import FIXTURES, Site

JEKYLL_POSTS = FIXTURES / "jekyll" / "_posts"
# A page that lists what Jekyll made of every post.
LISTING = """---
layout: null
---
[{% for p in site.posts %}{"url": {{ p.url | absolute_url | jsonify }}, "date": {{ p.date | date: "%Y-%m-%dT%H:%M:%S%:z" | jsonify }}, "tags": {{ p.tags | jsonify }}, "categories": {{ p.categories | jsonify }}, "title": {{ p.title | jsonify }}}{% unless forloop.last %},{% endunless %}
{% endfor %}]
"""


@pytest.fixture(scope="module")
def jekyll_posts(tmp_path_factory):
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    site = tmp_path_factory.mktemp("jekyll")
    shutil.copytree(JEKYLL_POSTS, site / "_posts")
    (site / "_config.yml").write_text("timezone: Asia/Seoul\nurl: https://papers.example.org\n", encoding="utf-8")
    (site / "posts.json").write_text(LISTING, encoding="utf-8")
    result = subprocess.run(["jekyll", "build", "--quiet"], cwd=site, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    posts = json.loads((site / "_site" / "posts.json").read_text(encoding="utf-8"))
    return {post["title"]: post for post in posts}


@pytest.fixture(scope="module")
def our_items(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("ours")
    shutil.copytree(JEKYLL_POSTS, site_dir / "_posts")
    shutil.copy(FIXTURES / "jekyll" / "config.toml", site_dir / "config.toml")
    Site(site_dir).build()
    feed = json.loads((site_dir / "public" / "feed.json").read_text(encoding="utf-8"))
    return {item["title"]: item for item in feed["items"]}


def test_the_same_posts_are_published(jekyll_posts, our_items):
    assert sorted(our_items) == sorted(jekyll_posts)
    assert "Not published" not in our_items and "Scheduled for the future" not in our_items
    assert len(our_items) == 17


def test_every_url_equals_jekylls(jekyll_posts, our_items):
    mismatches = {t: (our_items[t]["url"], j["url"]) for t, j in jekyll_posts.items() if our_items[t]["url"] != j["url"]}
    assert mismatches == {}
    # The cases the issue names, spelled out.
    assert our_items["Late evening moves to the next day"]["url"] == "https://papers.example.org/2025/12/25/late-evening.html"
    assert our_items["Categories as a list"]["url"].startswith("https://papers.example.org/research/ml/2025/")


def test_every_date_equals_jekylls(jekyll_posts, our_items):
    for title, jekyll in jekyll_posts.items():
        ours = datetime.fromisoformat(our_items[title]["date_published"])
        theirs = datetime.fromisoformat(jekyll["date"])
        assert ours == theirs and ours.utcoffset() == theirs.utcoffset(), title


def test_tags_and_categories_equal_jekylls(jekyll_posts, our_items):
    for title, jekyll in jekyll_posts.items():
        expected = []
        for word in jekyll["tags"] + jekyll["categories"]:
            if word not in expected:
                expected.append(word)
        assert our_items[title].get("tags", []) == expected, title
