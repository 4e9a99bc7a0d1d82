"""WCAG 2.1 A and AA in real Chromium: axe-core (the npm package: `npm ci` installs it)
injected into the page in each state a class meets, and no violation of impact serious
or critical. The page's own fixes for what Dash's components leave are in
optviz/web/assets/optviz_a11y.js."""
import os
import pathlib
import time

import pytest

from .conftest import ROOT, _open
from .test_browser_teaching import run_explore

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_js() -> pathlib.Path:
    if not AXE.exists():
        msg = f"no axe-core at {AXE}: run `npm ci` in the repository"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return AXE


def violations(page, axe_js) -> list[str]:
    """The serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(axe_js))
    result = page.evaluate("(rules) => axe.run(document, {runOnly: rules})", RULES)
    return [f"{v['impact']} {v['id']}: {v['help']} "
            f"({', '.join(str(n['target']) for n in v['nodes'][:3])})"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def opened(browser, server_url, query="", size=(1280, 720), **context):
    # the page's CSP allows no inline script; axe comes in as one (bypass_csp)
    return _open(browser, server_url + ("?" + query if query else ""), *size,
                 bypass_csp=True, **context)


def typed_wrong(page, box, text, error_id, says):
    """``text`` typed into ``box`` and committed; its error shown, saying ``says``."""
    page.locator(box).fill(text)
    page.locator(box).press("Enter")
    page.wait_for_function("([id, says]) => document.getElementById(id).textContent"
                           ".includes(says)", arg=[error_id, says])


@pytest.mark.parametrize("query, size", [
    ("", (1280, 720)), ("scenario=saddle", (1280, 720)), ("", (1920, 1080)),
    ("scenario=all-optimizers", (390, 844)),
], ids=["default", "scenario", "wide", "phone"])
def test_no_serious_violation(browser, server_url, axe_js, query, size):
    context = {"is_mobile": True, "has_touch": True} if size[0] < 500 else {}
    page = opened(browser, server_url, query, size, **context)
    try:
        assert violations(page, axe_js) == []
    finally:
        page.close()


def test_no_serious_violation_in_the_formula_error_state(browser, server_url, axe_js):
    page = opened(browser, server_url, "surface=formula&f=x%2By**2")
    try:
        typed_wrong(page, "#formula", "x + 3*z", "formula-err", "unknown name")
        assert violations(page, axe_js) == []
    finally:
        page.close()


def test_no_serious_violation_with_an_explore_result(browser, server_url, axe_js):
    # (a setup of its own: a cached result would not show the finished state's parts)
    page = opened(browser, server_url, f"rows=gd,momentum&steps={500 + time.time_ns() % 300}")
    try:
        run_explore(page, "learning-rate sweep")
        assert violations(page, axe_js) == []
    finally:
        page.close()


@pytest.mark.parametrize("size", [(1280, 720), (390, 844)], ids=["laptop", "phone"])
def test_no_serious_violation_in_a_networks_training(browser, server_url, axe_js, size):
    """A network's scenario with its panel open, its side plots and decision boundaries
    drawn, and an error said under the panel."""
    context = {"is_mobile": True, "has_touch": True} if size[0] < 500 else {}
    page = opened(browser, server_url, "scenario=network-spirals", size, **context)
    try:
        page.locator("#net-box summary").click()
        for box, plot in (("#loss-plot", "#loss-plot"), ("#data-box", "#data-plot")):
            page.locator(box).scroll_into_view_if_needed()        # (drawn once in view)
            page.wait_for_function(f"() => document.querySelector('{plot} .js-plotly-plot')",
                                   timeout=30000)
        page.locator("#net-box summary").scroll_into_view_if_needed()
        typed_wrong(page, "#net-n", "5", "net-err", "allowed 8 to 1000")
        assert violations(page, axe_js) == []
    finally:
        page.close()
