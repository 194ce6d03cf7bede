"""Liquid's and kramdown's edge rules as real Jekyll 4.3 (Debian's jekyll + ruby-jekyll-feed) has
them: real Jekyll builds tests/fixtures/jekyll-liquid-kramdown, digest-feed builds the same blog with
no config.toml, and the element each post is about must render alike: nil arithmetic and ranges,
Jekyll's include arguments, jsonify, fences in list items, link titles holding a quote, `{% link %}`
into collections, `{% highlight %}` inside `<details>`, a no-break space in a title."""

import json
import shutil
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

import lxml.html
import pytest

from helpers import FIXTURES, Site, jekyll_build

BLOG = FIXTURES / "jekyll-liquid-kramdown"
ATOM = "{http://www.w3.org/2005/Atom}"
ENV = {"TZ": "UTC"}
SITE_URL = "https://blog.example.org"


@pytest.fixture(scope="module")
def jekyll(tmp_path_factory):
    """Jekyll's page of each post, by URL, and jekyll-feed's titles by URL."""
    built = jekyll_build(BLOG, tmp_path_factory.mktemp("jekyll"), ENV)
    titles = {}
    for entry in ET.parse(built / "feed.xml").getroot().findall(f"{ATOM}entry"):
        titles[entry.find(f"{ATOM}link").get("href")] = entry.find(f"{ATOM}title").text
    pages = {}
    for url in titles:
        path = built / url.removeprefix(SITE_URL + "/")
        pages[url] = lxml.html.fragment_fromstring(path.read_text(encoding="utf-8"), create_parent="div")
    return pages, titles


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """digest-feed's content of each post, by URL, its titles, and what it warned."""
    site = tmp_path_factory.mktemp("ours")
    shutil.copytree(BLOG, site, dirs_exist_ok=True)
    result = Site(site).run("build", env=ENV)
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    pages = {item["url"]: lxml.html.fragment_fromstring(item["content_html"], create_parent="div")
             for item in feed["items"]}
    titles = {item["url"]: item["title"] for item in feed["items"]}
    return pages, titles, result.stderr


def post(slug: str) -> str:
    return f"{SITE_URL}/2025/01/{slug}.html"


def text(page, xpath: str) -> list[str]:
    return [element.text_content() for element in page.xpath(xpath)]


def test_the_same_posts_and_no_warning(jekyll, ours):
    assert sorted(ours[0]) == sorted(jekyll[0])
    assert ours[2].count("warning") == 0, ours[2]


@pytest.mark.parametrize("element", ["nil", "ranges", "vranges", "include", "json"])
def test_liquid_renders_as_jekylls(jekyll, ours, element):
    url = post("01/liquid")
    theirs = text(jekyll[0][url], f"//p[@id='{element}']")
    assert theirs and text(ours[0][url], f"//p[@id='{element}']") == theirs
    # What each one shows, spelled out.
    shown = {"nil": "-1|2|0", "ranges": "[][][123]", "vranges": "[][123][0]",
             "include": "Richat at 21°07'26.4\"N\n", "json": '"inf" "NaN" "007" "1e3" 7 1.5 true'}
    assert theirs == [shown[element]]


@pytest.mark.parametrize("slug", ["02/fences", "07/lazy", "08/indented"])
def test_code_blocks_are_kramdowns(jekyll, ours, slug):
    url = post(slug)
    assert text(ours[0][url], "//pre/code") == text(jekyll[0][url], "//pre/code")
    # Nothing after the list became code.
    for paragraph in jekyll[0][url].xpath("//p[@id]"):
        assert text(ours[0][url], f"//p[@id='{paragraph.get('id')}']") == [paragraph.text_content()]


def test_a_link_title_holding_its_own_quote_is_kramdowns(jekyll, ours):
    url = post("03/titles")
    links = lambda page: [(a.get("href"), a.get("title"), a.text_content()) for a in page.xpath("//a")]
    assert links(ours[0][url]) == links(jekyll[0][url])
    assert links(ours[0][url])[0] == ("https://example.com/p", '"The Right Way', "this piece")


def test_a_no_break_space_in_a_title_stays(jekyll, ours):
    url = post("03/titles")
    assert ours[1][url] == jekyll[1][url] == "Weekend Reading\u00a0— 2020"


def test_a_link_into_a_collection_takes_its_permalink(jekyll, ours):
    url = post("04/link")
    hrefs = lambda page: [urljoin(url, a.get("href")) for a in page.xpath("//a")]
    assert hrefs(ours[0][url]) == hrefs(jekyll[0][url])
    assert hrefs(ours[0][url]) == [f"{SITE_URL}/docs/history/#v1", f"{SITE_URL}/notes/first.html"]


@pytest.mark.parametrize("slug", ["05/highlight", "06/details"])
def test_highlight_in_details_is_one_clean_code_block(jekyll, ours, slug):
    url = post(slug)
    code = "//figure[contains(@class, 'highlight')]/pre/code"
    assert text(ours[0][url], code) == text(jekyll[0][url], code)
    assert len(text(ours[0][url], code)) == 1
    assert ours[0][url].xpath("//pre//p") == []
    assert text(ours[0][url], "//p[@id='after']") == text(jekyll[0][url], "//p[@id='after']")


def test_an_error_in_an_include_is_reported_at_the_include_once(tmp_path):
    shutil.copytree(BLOG, tmp_path, dirs_exist_ok=True)
    (tmp_path / "_includes" / "broken.html").write_text("line one\nline two\n{% if %}\n", encoding="utf-8")
    (tmp_path / "_posts" / "2025-01-08-broken.md").write_text(
        "---\ntitle: Broken\n---\nOne.\n\n{% twitter https://x.com/a?b=1 %}\n{% include broken.html %}\n",
        encoding="utf-8")
    result = Site(tmp_path).run("check", env=ENV)
    # The fixture blog loads jekyll-feed, whose own warning (what to remove) is not about Liquid.
    lines = [line for line in result.stderr.splitlines()
             if "warning" in line and "jekyll-feed is in `plugins`" not in line]
    assert len(lines) == 2, result.stderr
    assert lines[0].endswith("_posts/2025-01-08-broken.md:6: Liquid tag `twitter` is from a Jekyll plugin "
                             "digest-feed does not know; it is left out"), lines
    assert "_includes/broken.html:3: Liquid: " in lines[1], lines
    assert lines[1].endswith("included at _posts/2025-01-08-broken.md:7, whose Liquid is left out"), lines
