"""Shared pytest fixtures.

Site fixtures (tests/sitebuild.py): ONE reduced-grid site (configs/small.toml, absolute output
paths in a session tmp dir) is built per test session, the first time a test asks for it, and is
served on 127.0.0.1 under its site_url path prefix (``http://127.0.0.1:<port>/initlab/``).

* ``site_server``  the bound HTTP server (its port is fixed before the build)
* ``site_build``   the :class:`sitebuild.SiteBuild` (public_dir, docs_dir, BuildResult, stage logs)
* ``site_url``     the served site's URL (server started)
* ``browser``      one headless Chromium (/usr/bin/chromium via Playwright) for every browser test module
* ``cli_site``     ONE clean ``python -m generator site`` run of the same grid (the CLI, one process pool),
                   for test_site_command; test_ownership works on copies of it
* ``page_visits``  ONE browser visit per (page, language, viewport) of that site, its facts kept for the
                   session (tests/pagevisits.py); a test picks a viewport with ``@pytest.mark.viewport``

If the build fails, every test using it errors with the build's message (pytest caches it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import sitebuild` from test modules

import sitebuild


@pytest.fixture(scope="session")
def site_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    server = sitebuild.SiteServer(root / "http", root / "out" / "public")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def site_build(site_server, tmp_path_factory):
    out = Path(site_server.http_root).parent / "out"
    try:
        sb = sitebuild.build_reduced_site(out, site_server.url)
    except Exception as exc:  # one short message per dependent test (pytest caches it for the session)
        pytest.fail(f"the reduced-grid site did not build: {type(exc).__name__}: {str(exc)[-3000:]}", pytrace=False)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in sb.seconds.items())
    print(f"\n[site_build] reduced site built into {sb.public_dir} ({sb.result.files} files; {timings})")
    return sb


@pytest.fixture(scope="session")
def cli_site(site_server, tmp_path_factory) -> sitebuild.CliSite:
    """A clean ``python -m generator site --site-url <the shared site's url>`` of configs/small.toml into a
    session tmp dir, through the process pool whatever the core count (``INITLAB_EXECUTOR=process``). Not
    started from the shared build's cache: the run computes everything, and its stderr says so."""
    root = tmp_path_factory.mktemp("cli-site")
    config = sitebuild.write_config(root)
    proc = sitebuild.run_stage(
        "site", config, extra_args=("--site-url", site_server.url), env={"INITLAB_EXECUTOR": "process"}
    )
    return sitebuild.CliSite(root=root, config=config, proc=proc)


@pytest.fixture(scope="session")
def site_url(site_server, site_build) -> str:
    site_server.start()
    return site_server.url


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    sitebuild.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return sitebuild.ARTIFACTS


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session (Playwright's sync API allows one running instance per thread, so the
    browser test modules share it). Modules skip themselves when /usr/bin/chromium is absent."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "viewport(name): the page_visits viewport a test asserts on (tests/pagevisits.py VIEWPORTS; default desktop)",
    )


@pytest.fixture(scope="session")
def page_visits(request, browser, site_url, artifacts_dir):
    """The session's :class:`pagevisits.PageVisits`: the first ``get`` makes every visit the collected tests
    ask for (their ``page``/``lang`` parameters and ``viewport`` mark), each once."""
    import pagevisits

    return pagevisits.PageVisits(browser, site_url, artifacts_dir, pagevisits.wanted_visits(request.session.items))
