"""pytest's hooks and fixtures for the Python tests; what the tests share is in helpers.py."""

import pathlib
import types

import pytest

from helpers import ROOT, Site
from smtp_server import SmtpServer


# Real Jekyll blogs some tests build and compare: kept beside the repository
# (in CI), never copied into it. Where they are absent those tests are
# skipped, each named with this reason; where present none is.
REAL_BLOGS = ROOT.parent / "shared" / "real-blogs"
REAL_NAMES = {"REAL_BLOGS", "PROJECT_PAGES"}


def _codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _reads_real_blogs(code: types.CodeType, module, seen: set) -> bool:
    """Whether `code`, or a function of its module it calls, names the real blogs."""
    for part in _codes(code):
        for name in part.co_names:
            if name in REAL_NAMES:
                return True
            called = getattr(module, name, None)
            if isinstance(called, types.FunctionType) and name not in seen:
                seen.add(name)
                if _reads_real_blogs(called.__code__, module, seen):
                    return True
    return False


def pytest_collection_modifyitems(config, items):
    if REAL_BLOGS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the real blogs in {REAL_BLOGS}, which CI keeps beside the repository")
    for item in items:
        module = getattr(item, "module", None)
        function = getattr(item, "function", None)
        if module is None or function is None:
            continue
        codes = [function.__code__]
        for defs in getattr(item, "_fixtureinfo").name2fixturedefs.values():
            codes.extend(fixture.func.__code__ for fixture in defs if hasattr(fixture.func, "__code__"))
        if any(_reads_real_blogs(code, module, set()) for code in codes):
            item.add_marker(skip)


def pytest_configure(config):
    # The mail tests log in without TLS on loopback on purpose; aiosmtpd warns of it.
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def make_site(tmp_path):
    """make_site(posts_dir, config_text) copies posts into a fresh site."""

    def make(posts: pathlib.Path, config: str) -> Site:
        return Site.create(tmp_path, posts, config)

    return make


@pytest.fixture
def server():
    """A real SMTP server (aiosmtpd) on a free loopback port, for the test's length."""
    with SmtpServer() as smtp:
        yield smtp
