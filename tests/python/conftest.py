"""pytest's hooks and fixtures for the Python tests; what the tests share is in helpers.py."""

import pathlib

import pytest

from helpers import Site
from smtp_server import SmtpServer


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
