"""Jekyll's front matter defaults (`defaults:` in _config.yml): real Jekyll (Debian's jekyll +
ruby-jekyll-feed) builds tests/fixtures/jekyll-defaults, a blog whose posts take their permalink,
categories, tags, author, `published`, `render_with_liquid` and `excerpt_separator` from
`defaults:` by folder, glob and type, one post overriding them; digest-feed builds the same blog
with no config.toml, and every feed item must say what jekyll-feed's entry says."""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import FIXTURES, Site

BLOG = FIXTURES / "jekyll-defaults"
ATOM = "{http://www.w3.org/2005/Atom}"
# What Jekyll made of every post, for what jekyll-feed's entries do not show.
LISTING = """---
layout: null
---
[{% for p in site.posts %}{"url": {{ p.url | absolute_url | jsonify }}, "tags": {{ p.tags | jsonify }}, "categories": {{ p.categories | jsonify }}, "title": {{ p.title | jsonify }}, "content": {{ p.content | jsonify }}}{% unless forloop.last %},{% endunless %}
{% endfor %}]
"""
# Both read dates without a zone in the machine's zone: fix it.
ENV = {"TZ": "UTC"}


@pytest.fixture(scope="module")
def jekyll(tmp_path_factory):
    """jekyll-feed's entries by URL, and Jekyll's posts by URL."""
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    site = tmp_path_factory.mktemp("jekyll")
    shutil.copytree(BLOG, site, dirs_exist_ok=True)
    (site / "posts.json").write_text(LISTING, encoding="utf-8")
    result = subprocess.run(["jekyll", "build", "--quiet"], cwd=site, capture_output=True, text=True,
                            timeout=300, env={**os.environ, **ENV})
    assert result.returncode == 0, result.stderr
    entries = {}
    for entry in ET.parse(site / "_site" / "feed.xml").getroot().findall(f"{ATOM}entry"):
        summary = entry.find(f"{ATOM}summary")
        entries[entry.find(f"{ATOM}link").get("href")] = {
            "id": entry.find(f"{ATOM}id").text,
            "author": entry.find(f"{ATOM}author/{ATOM}name").text,
            "terms": [category.get("term") for category in entry.findall(f"{ATOM}category")],
            "summary": summary.text.strip() if summary is not None else None,
        }
    posts = json.loads((site / "_site" / "posts.json").read_text(encoding="utf-8"))
    return entries, {post["url"]: post for post in posts}


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """digest-feed's JSON Feed items by URL, built from the blog's _config.yml alone."""
    site = tmp_path_factory.mktemp("ours")
    shutil.copytree(BLOG, site, dirs_exist_ok=True)
    result = Site(site).run("build", env=ENV)
    assert "warning" not in result.stderr, result.stderr
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    return {item["url"]: item for item in feed["items"]}


def test_the_same_posts_are_published(jekyll, ours):
    entries, _ = jekyll
    assert list(ours) == list(entries)
    titles = [item["title"] for item in ours.values()]
    # `published: false` for _posts/drafts, and one post there that says `published: true`.
    assert "Work in progress" not in titles and "Ready" in titles
    assert len(ours) == 7


def test_urls_ids_and_authors_equal_jekyll_feeds(jekyll, ours):
    entries, _ = jekyll
    for url, entry in entries.items():
        item = ours[url]
        assert item["id"] == entry["id"], url
        assert [author["name"] for author in item.get("authors", [])] == [entry["author"]], url
    # The cases spelled out: a folder's permalink, one the post overrides, a folder that merely
    # starts like another, and a weaker set that merges under a narrower one.
    assert ours["https://blog.example.org/news/2025/launch/"]["authors"] == [{"name": "Newsroom"}]
    assert ours["https://blog.example.org/press/override.html"]["authors"] == [{"name": "Guest"}]
    assert "https://blog.example.org/news/2025/letter/" in ours
    assert ours["https://blog.example.org/2025/01/01/plain.html"]["authors"] == [{"name": "Later"}]
    assert ours["https://blog.example.org/notes/2025/01/07/note.html"]["authors"] == [{"name": "Everyone"}]


def test_categories_and_tags_equal_jekylls(jekyll, ours):
    entries, posts = jekyll
    for url, post in posts.items():
        # Ours: the tags, then the categories; Jekyll's post: each list in its order.
        assert ours[url].get("tags", []) == list(dict.fromkeys(post["tags"] + post["categories"])), url
        # jekyll-feed's terms: the same words, its category first.
        assert sorted(ours[url].get("tags", [])) == sorted(entries[url]["terms"]), url
    # The post's own categories join the folder's; its own tags replace them.
    assert ours["https://blog.example.org/press/override.html"]["tags"] == ["extra", "news", "press"]
    # A glob's tags, and the post's own `category` over the folder's.
    assert ours["https://blog.example.org/archive/2025/01/08/old.html"]["tags"] == ["old", "dusty", "Archive"]


def test_liquid_off_and_the_excerpt_separator_come_from_defaults(jekyll, ours):
    entries, posts = jekyll
    for url, entry in entries.items():
        assert ours[url]["summary"] == entry["summary"], url
    note = "https://blog.example.org/notes/2025/01/07/note.html"
    assert "{{ page.title }}" in posts[note]["content"]
    assert "{{ page.title }}" in ours[note]["content_html"] and "The rest." in ours[note]["content_html"]
    assert ours[note]["summary"] == "First part, with {{ page.title }} kept as text."


def test_a_wrong_default_names_the_file_line_and_key(tmp_path):
    shutil.copytree(BLOG, tmp_path, dirs_exist_ok=True)
    config = (tmp_path / "_config.yml").read_text(encoding="utf-8")
    line = config.splitlines().index("      categories: [news]") + 1
    (tmp_path / "_config.yml").write_text(config.replace("categories: [news]", "categories: {a: 1}"),
                                          encoding="utf-8")
    result = Site(tmp_path).run("build", code=2, env=ENV)
    assert (f"_config.yml:{line}: defaults: entry 2: `categories`: must be a list like [a, b] "
            "or a space-separated string") in result.stderr, result.stderr
