"""Papers by the shapes a reader sees: numbered headings, bold numbers, ordered lists of links,
headings that are one link; never in a blockquote or a footnote; `feed.papers` forcing a shape;
`check -v` naming what it found; the whole post (intro, image, closing words) in both parts of
the email; and on real digest blogs, as many papers per post as a reader counts."""

import email
import email.policy
import json
import re

import pytest

from helpers import FIXTURES, ROOT, Site, mail

PAPERS = FIXTURES / "papers"
REAL_BLOGS = ROOT.parent / "shared" / "real-blogs"
SITE = "https://papers.example.org"


def _site(path, posts=PAPERS, papers: str | None = None, more: str = "") -> Site:
    """A site with `posts`, one feed item per paper; `papers` sets feed.papers (default: left out, auto)."""
    shape = f'papers = "{papers}"\n' if papers else ""
    return Site.create(path, posts, f'[site]\ntitle = "Daily Papers"\nurl = "{SITE}"\ntimezone = "Asia/Seoul"\n'
                                    f'[feed]\nlimit = 1000\nitems = "papers"\n{shape}{more}')


def _papers(site: Site) -> dict:
    """The paper items of feed.json by their post's slug, in order."""
    site.build()
    feed = json.loads(site.out("feed.json").read_text(encoding="utf-8"))
    found = {}
    for item in feed["items"]:
        post, _, number = item["id"].partition("#paper-")
        found.setdefault(post.rsplit("/", 1)[-1].removesuffix(".html"), []).append({**item, "number": int(number)})
    return found


def _titles(items) -> list:
    """Each paper's number, title and own link (JSON Feed's external_url; `url` is its place in the post)."""
    return [(item["number"], item["title"], item.get("external_url", item["url"])) for item in items]


@pytest.fixture(scope="module")
def fixture_papers(tmp_path_factory):
    return _papers(_site(tmp_path_factory.mktemp("papers")))


def test_numbered_headings_end_at_a_heading_of_their_level(fixture_papers):
    items = fixture_papers["numbered-headings"]
    assert _titles(items) == [
        (1, "RAGEN-2: Reasoning Collapse in Agentic RL", "https://huggingface.co/papers/2604.06268"),
        (2, "Neural Computers", "https://huggingface.co/papers/2604.06425"),
    ]
    assert "Mutual-information proxies" in items[0]["content_html"], "a sub-heading stays in its paper"
    assert "Closing notes" not in items[1]["content_html"] and "See you tomorrow" not in items[1]["content_html"]


def test_bold_numbers_but_not_the_one_in_a_blockquote(fixture_papers):
    items = fixture_papers["bold-numbers"]
    assert _titles(items) == [
        (1, "Explanatory Instructions: Towards Unified Vision Tasks", "https://huggingface.co/papers/2412.18525"),
        (2, "TangoFlux: Super Fast Text to Audio", "https://huggingface.co/papers/2412.21037"),
    ]
    assert "Parkinson" in items[0]["content_html"], "the quote is part of the paper before it"


def test_ordered_list_items_that_hold_links(fixture_papers):
    items = fixture_papers["ordered-list"]
    assert _titles(items) == [
        (1, "EnvHarness: Static Worlds for Agents", "https://huggingface.co/papers/2512.00001"),
        (2, "FACET: Faceted Evaluation", "https://huggingface.co/papers/2512.00002"),
        (3, "Quiet Tokens", "https://huggingface.co/papers/2512.00003"),
    ]
    first = items[0]["content_html"]
    assert "👍 86" in first and "https://arxiv.org/abs/2512.00001" in first and "정적 환경" in first
    assert "FACET" not in first and "내일" not in items[2]["content_html"]


def test_headings_that_are_one_link(fixture_papers):
    items = fixture_papers["link-headings"]
    assert _titles(items) == [
        (1, "The Game Design Reader", "https://example.org/game"),
        (2, "Why Books Don't Work", "https://andymatuschak.org/books/"),
        (3, "The Next Mapping Company", "https://example.org/maps"),
    ]


def test_nothing_in_a_blockquote_or_a_footnote_is_a_paper(fixture_papers):
    assert "quoted-and-footnoted" not in fixture_papers


def test_a_forced_shape_takes_that_shape_alone(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "2025-12-07-both.md").write_text(
        "---\ntitle: Both\n---\n\n## 1. A numbered heading\n\nText.\n\n"
        "1. [Listed one](https://example.org/1)\n2. [Listed two](https://example.org/2)\n", encoding="utf-8")
    assert _titles(_papers(_site(tmp_path / "auto", posts, papers="auto"))["both"]) == [
        (1, "A numbered heading", "https://example.org/1")]
    assert _titles(_papers(_site(tmp_path / "list", posts, papers="list"))["both"]) == [
        (1, "Listed one", "https://example.org/1"), (2, "Listed two", "https://example.org/2")]
    assert _papers(_site(tmp_path / "links", posts, papers="links")) == {}


def test_a_misspelt_shape_is_named_with_its_line(tmp_path):
    site = _site(tmp_path, papers="heading")
    result = site.run("check", code=2)
    assert ('config.toml:8: unknown variant `heading`, expected one of `auto`, `headings`, `bold`, `list`, '
            '`links`; did you mean `headings`?') in result.stderr, result.stderr


def test_check_says_per_post_which_shape_and_how_many(tmp_path):
    result = _site(tmp_path).run("-v", "check")
    for line in [
        "_posts/2025-12-01-numbered-headings.md: 2 papers (numbered headings)",
        "_posts/2025-12-02-bold-numbers.md: 2 papers (bold numbers)",
        "_posts/2025-12-03-ordered-list.md: 3 papers (ordered list)",
        "_posts/2025-12-04-link-headings.md: 3 papers (link headings)",
        "_posts/2025-12-06-intro-chart-outro.md: 3 papers (numbered headings)",
    ]:
        assert line in result.stderr.splitlines(), result.stderr
    assert "warning: _posts/2025-12-05-quoted-and-footnoted.md: feed.items = \"papers\" finds no paper" in result.stderr
    assert "13 papers" in result.stdout, result.stdout


def _email_of(tmp_path, post: str):
    """The one email `mail --dry-run` writes for `post` (a fixture), parsed strictly."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / post).write_bytes((PAPERS / post).read_bytes())
    site = _site(tmp_path / "site", posts, more='[email]\nfrom = "Daily Papers <papers@example.org>"\n'
                                                 '[[subscribers]]\nemail = "reader@example.org"\n')
    mail(site, "--dry-run", "--eml-dir", "eml")
    [path] = (site.path / "eml").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.strict)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return html, text


def test_the_email_holds_the_whole_post_intro_image_and_closing_words(tmp_path):
    html, text = _email_of(tmp_path, "2025-12-06-intro-chart-outro.md")
    for part in (html, text):
        assert "Today we collected" in part and "3 papers" in part
        assert "Thanks for reading, see you tomorrow." in part
        assert part.index("Today we collected") < part.index("First Paper") < part.index("Thanks for reading")
    # The image: itself in the HTML, its alt text where it stands in the text (as mail apps show it).
    assert f'<img src="{SITE}/assets/chart.png" alt="chart"' in html
    assert text.index("Today we collected") < text.index("[chart]") < text.index("First Paper")
    # The preheader (the post's excerpt) still opens the HTML, and the table of contents follows the papers.
    assert re.search(r'<div class="preheader"[^>]*>Today we collected 3 papers.</div>', html), html
    assert [m for m in re.findall(r'<a href="#paper-(\d)"', html)] == ["1", "2", "3"]


def test_the_email_of_a_list_digest_holds_its_intro_and_closing_words(tmp_path):
    html, text = _email_of(tmp_path, "2025-12-03-ordered-list.md")
    for part in (html, text):
        assert part.index("총 3개의 논문이 수집되었습니다.") < part.index("EnvHarness") < part.index("내일 또 만나요.")
    assert re.findall(r'<a href="#paper-\d"[^>]*>([^<]*)</a>', html) == [
        "EnvHarness: Static Worlds for Agents", "FACET: Faceted Evaluation", "Quiet Tokens"]


# Real digests: each blog's posts, and per digest post the items a reader counts, by a plain
# rule on the Markdown source (not by digest-feed's code).

def _yijia(text: str):
    """Daily Hugging Face digests: one `## N. Title` per paper."""
    return len(re.findall(r"^## \d+\. ", text, re.M))


def _yupengtang(text: str):
    """Daily digests: every paper has one `[Read Paper](URL)` line."""
    return len(re.findall(r"\[Read Paper\]\(", text))


ONE_LINK_HEADING = re.compile(r"^(#{1,6})[ \t]+[^\w\[\]]*\[[^\]]+\]\((?:[^()]|\([^()]*\))*\)[^\w\[\]]*$", re.M)


def _colemanm(text: str):
    """Weekend Reading roundups: each item a heading that is one link, with an emoji before it;
    counted at the shallowest level that has two."""
    levels = [len(hashes) for hashes in ONE_LINK_HEADING.findall(text)]
    for level in sorted(set(levels)):
        if levels.count(level) >= 2:
            return levels.count(level)
    return 0


REAL = {
    "yijia2413__yijia2413.github.io": ("https://yijia2413.github.io", _yijia),
    "yupengtang__Daily-AI-Trend-Reporter": ("https://yupengtang.github.io/Daily-AI-Trend-Reporter", _yupengtang),
    "colemanm__colemanm.org": ("https://colemanm.org", _colemanm),
}


@pytest.mark.parametrize("blog", sorted(REAL))
def test_papers_per_post_of_real_digests_equal_what_a_reader_counts(tmp_path, blog):
    url, rule = REAL[blog]
    site = Site.create(tmp_path, REAL_BLOGS / blog / "_posts",
                       f'[site]\ntitle = "{blog}"\nurl = "{url}"\ntimezone = "UTC"\n[feed]\nitems = "papers"\n')
    result = site.run("-v", "check", code=None)
    ours = {}
    for line in result.stderr.splitlines():
        found = re.fullmatch(r"_posts/(.+): (\d+) papers? \((.+)\)", line)
        if found:
            ours[found.group(1)] = int(found.group(2))
    expected = {}
    for path in sorted((site.path / "_posts").rglob("*")):
        if path.suffix in (".md", ".markdown"):
            count = rule(path.read_text(encoding="utf-8"))
            if count:
                expected[str(path.relative_to(site.path / "_posts"))] = count
    refused = {name for name in expected if f"_posts/{name}" in result.stderr and name not in ours}
    equal = {name for name, count in expected.items() if ours.get(name) == count}
    print(f"\n{blog}: {len(equal)}/{len(expected)} digest posts with every paper, "
          f"{sum(expected.values())} papers; {len(refused)} refused")
    assert {name: (ours.get(name), count) for name, count in expected.items() if name not in equal} == {}
