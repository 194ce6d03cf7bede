"""Shared helpers: run the built digest-feed binary on a site in a temporary folder."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def pytest_configure(config):
    # The mail tests log in without TLS on loopback on purpose; aiosmtpd warns of it.
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


def binary() -> str:
    path = os.environ.get("DIGEST_FEED_BIN", str(ROOT / "target" / "debug" / "digest-feed"))
    if not os.path.exists(path):
        pytest.fail(f"{path} does not exist: run scripts/test, which builds it first")
    return path


class Site:
    """A site folder: config.toml, _posts/, and public/ after a build."""

    def __init__(self, path: pathlib.Path):
        self.path = path

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([binary(), *args], cwd=self.path, capture_output=True, text=True, timeout=120)

    def build(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run("build", *args)
        assert result.returncode == 0, result.stderr
        return result

    def out(self, name: str) -> pathlib.Path:
        return self.path / "public" / name


@pytest.fixture
def make_site(tmp_path):
    """make_site(posts_dir, config_text) copies posts into a fresh site."""

    def make(posts: pathlib.Path, config: str) -> Site:
        shutil.copytree(posts, tmp_path / "_posts")
        (tmp_path / "config.toml").write_text(config, encoding="utf-8")
        return Site(tmp_path)

    return make
