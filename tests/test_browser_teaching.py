"""The teaching features in real Chromium against the real gunicorn: scenarios, equation
panel, state inspector, live tweaks, links, downloads."""
import contextlib
import csv
import io
import json
import struct
import time
from types import SimpleNamespace

import pytest

from optviz import OPTIMIZERS
from optviz.scenarios import SCENARIOS
from optviz.surfaces import SURFACES
from optviz.web.callbacks import compute
from optviz.web.controls import scenario_controls, scene_from_controls

from .conftest import _open
from .test_browser import ghosts, helpers, set_slider, shot, wait_changed


def open_at(browser, server_url, query="", size=(1280, 900)):
    return _open(browser, server_url + ("?" + query if query else ""), *size)


def scenario_scene_on_page(name):
    """The Scene the page runs for scenario ``name`` (the scenario's, with the page's row
    labels); for a network's training, its rows (labels) and steps."""
    c = scenario_controls(name)
    if SCENARIOS[name].train:
        meta = compute(c)[3]
        return SimpleNamespace(labels=[r["label"] for r in meta["rows"]], steps=meta["steps"])
    return scene_from_controls(c)


@contextlib.contextmanager
def scenario_page(browser, server_url, name):
    """The page opened at ``?scenario=name``, its rows drawn; closed afterwards."""
    page = open_at(browser, server_url, f"scenario={name}")
    try:
        wait_labels(page, scenario_scene_on_page(name).labels)
        yield page
    finally:
        page.close()


def wait_labels(page, labels, timeout=30000):
    page.wait_for_function(
        "(want) => { const m = window.__optvizDrawn; return m && JSON.stringify("
        "m.rows.map(r => r.label)) === JSON.stringify(want); }", arg=labels, timeout=timeout)


def wait_frame(page, k, timeout=15000):
    page.wait_for_function("(k) => document.getElementById('frame-text').textContent"
                           ".startsWith('step ' + k + ' /')", arg=k, timeout=timeout)


def scrub_to(page, k):
    set_slider(page, "scrub", "Home")
    set_slider(page, "scrub", "ArrowRight", k)
    wait_frame(page, k)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_loads_from_its_link_with_its_rows_and_caption(browser, server_url, name):
    page = open_at(browser, server_url, f"scenario={name}")
    try:
        labels = scenario_scene_on_page(name).labels
        wait_labels(page, labels)
        assert page.locator("#caption").inner_text().strip() == SCENARIOS[name].caption
        rows = ghosts(page)
        assert len(rows) == len(labels)
        assert all(len(r["x"]) == scenario_scene_on_page(name).steps + 1 for r in rows)
        assert page.locator(".row-check input:checked").count() == len(labels)
        assert page.console_errors == []
        if name == "saddle":
            shot(page, "scenario-saddle")
    finally:
        page.close()


LEGEND_COVERS = """(points) => {
  // which of these data points the legend box hides, in page pixels
  const gd = document.getElementById('graph').querySelector('.js-plotly-plot')
             || document.getElementById('graph');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const g = gd.getBoundingClientRect();
  const box = document.getElementById('legend').getBoundingClientRect();
  return points.map(([x, y]) => {
    const px = g.left + xa._offset + xa.c2p(x), py = g.top + ya._offset + ya.c2p(y);
    return px >= box.left && px <= box.right && py >= box.top && py <= box.bottom;
  });
}"""


@pytest.mark.parametrize("size", [(1280, 900), (1280, 720), (390, 844)],
                         ids=["laptop", "projector", "phone"])
def test_a_long_legend_keeps_out_of_the_way_of_the_start_and_the_minimum(browser, server_url,
                                                                         size):
    # 17 rows: in the top-right corner the legend hid Rosenbrock's minimum (1, 1), where
    # the race ends; it now goes in two columns (names only on a phone) to the corner
    # that hides least
    scene = scenario_scene_on_page("all-optimizers")
    page = open_at(browser, server_url, "scenario=all-optimizers", size)
    try:
        wait_labels(page, scene.labels)
        start = [float(v) for v in scene.starts[0]]
        assert page.evaluate(LEGEND_COVERS, [[1.0, 1.0], start]) == [False, False]
        if size[0] > 900:        # nor the valley floor the race follows (y = x^2)
            assert page.evaluate(LEGEND_COVERS, [[0.0, 0.0], [0.5, 0.25]]) == [False, False]
        assert "legend-wide" in page.locator("#legend").get_attribute("class")
        assert page.console_errors == []
    finally:
        page.close()
    if size[0] > 900:
        with scenario_page(browser, server_url, "saddle") as page:    # a few rows: one column
            assert "legend-wide" not in page.locator("#legend").get_attribute("class")


def test_the_scenarios_menu_loads_a_scenario_and_puts_it_in_the_url(page):
    page.locator("#scenario").click()
    page.get_by_text("AdaGrad stalls, RMSProp does not").click()
    wait_labels(page, ["AdaGrad", "RMSProp"])
    page.wait_for_function("() => location.search === '?scenario=adagrad-stalls'")
    assert "AdaGrad divides" in page.locator("#caption").inner_text()
    # the controls moved to the scenario's values: alpha 0.02 on Rosenbrock
    assert "0.02" in page.locator("#lr-text").inner_text()
    assert page.console_errors == []


def test_the_equation_panel_shows_each_rule_with_its_numbers(browser, server_url):
    with scenario_page(browser, server_url, "lr-diagnostics") as page:
        page.locator("#equations").scroll_into_view_if_needed()   # typeset in view
        page.wait_for_function("() => document.querySelectorAll('#equations mjx-container')"
                               ".length >= 3", timeout=30000)
        text = page.locator("#equations").inner_text()
        for label in ("GD (α=0.01)", "GD #2 (α=0.48)", "GD #3 (α=0.51)"):
            assert label in text
        # MathJax keeps the source for screen readers / copy: the substituted rates are there
        source = page.evaluate("() => Array.from(document.querySelectorAll('#equations "
                               "mjx-container')).map(e => e.textContent || '').join(' ')")
        html = page.locator("#equations").inner_html()
        assert all(v in html or v in source for v in ("0.48", "0.51", "0.01"))


def test_the_inspector_draws_gradient_and_step_arrows_at_a_scrubbed_frame(browser, server_url):
    with scenario_page(browser, server_url, "adagrad-stalls") as page:
        page.locator("#inspect input").check()
        page.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.inspect")
        scrub_to(page, 12)
        page.wait_for_function("() => window.__optvizArrows && window.__optvizArrows.frame === 12")
        helpers(page)
        info = page.evaluate("""() => { const m = window.__optvizDrawn, t = 12;
            return {arrows: window.__optvizArrows.arrows,
                    g: m.rows.map(r => [__decode(r.g)[2 * t], __decode(r.g)[2 * t + 1]]),
                    step: m.rows.map(r => [__decode(r.x)[t + 1] - __decode(r.x)[t],
                                           __decode(r.y)[t + 1] - __decode(r.y)[t]]),
                    rate: m.rows.map(r => __decode(r.rate)[2 * t])}; }""")
        arrows = info["arrows"]
        assert sorted((a["uid"], a["kind"]) for a in arrows) == [
            ("adagrad", "grad"), ("adagrad", "step"), ("rmsprop", "grad"), ("rmsprop", "step")]
        for i, uid in enumerate(["adagrad", "rmsprop"]):
            grad = next(a for a in arrows if a["uid"] == uid and a["kind"] == "grad")
            step = next(a for a in arrows if a["uid"] == uid and a["kind"] == "step")
            gx, gy = info["g"][i]
            # screen x grows with x, screen y shrinks with y: -g points the same way
            assert (grad["x1"] - grad["x0"]) * -gx > 0 and (grad["y1"] - grad["y0"]) * gy > 0
            sx, sy = info["step"][i]
            assert (step["x1"] - step["x0"]) * sx > 0 and (step["y1"] - step["y0"]) * sy < 0
        table = page.locator("#inspector table")
        assert table.locator("tbody tr").count() == 2
        assert "t = 13" in page.locator("#inspector").inner_text()
        assert info["rate"][0] < info["rate"][1] * 10      # both adaptive rates are there
        shot(page, "inspector")
        assert page.console_errors == []


def test_the_newest_optimizers_have_every_page_feature(browser, server_url):
    """Rprop, ASGD, Adafactor, L-BFGS with its line search and Lion from a link: drawn,
    their rules with their numbers, the inspector with ASGD's average (a diamond on the
    plot) and L-BFGS's evaluations, and a link that brings them back."""
    names = ["rprop", "asgd", "adafactor", "lbfgs_wolfe", "lion"]
    query = f"surface=himmelblau&rows={','.join(names)}&steps=60"
    page = open_at(browser, server_url, query)
    try:
        labels = [OPTIMIZERS[n].label for n in names]
        wait_labels(page, labels)
        page.locator("#equations").scroll_into_view_if_needed()   # typeset in view
        page.wait_for_function("() => document.querySelectorAll('#equations mjx-container')"
                               ".length >= 5", timeout=30000)
        source = page.locator("#equations").inner_text()
        for label in labels:
            assert label in source
        page.locator("#inspect input").check()
        page.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.inspect")
        scrub_to(page, 5)
        page.wait_for_function("() => window.__optvizArrows && window.__optvizArrows.frame === 5")
        arrows = page.evaluate("() => window.__optvizArrows.arrows")
        assert ("asgd", "average") in {(a["uid"], a["kind"]) for a in arrows}
        table = page.locator("#inspector table")
        assert table.locator("tbody tr").count() == 5
        text = page.locator("#inspector").inner_text()
        assert "more" in text and "average:" in text and "evals:" in text
        helpers(page)
        evals = page.evaluate("""() => { const r = window.__optvizDrawn.rows
            .find(r => r.uid === 'lbfgs_wolfe'); return Array.from(__decode(r.evals)); }""")
        assert max(evals) >= 2                     # the line search's trials were counted
        assert page.console_errors == []
        shot(page, "newest-optimizers")
    finally:
        page.close()


def test_live_mode_changes_the_run_from_the_current_frame_on(browser, server_url):
    with scenario_page(browser, server_url, "ill-conditioned") as page:
        page.locator("#live input").check()
        scrub_to(page, 100)
        before = ghosts(page)
        set_slider(page, "lr", "ArrowLeft", 30)           # lower the rate mid-run
        wait_changed(page, before)
        after = ghosts(page)
        for b, a in zip(before, after):
            assert a["x"][:101] == b["x"][:101] and a["y"][:101] == b["y"][:101], a["name"]
            assert a["x"][150:] != b["x"][150:], a["name"]
        page.wait_for_function("() => location.search.includes('live=100:')")
        assert page.evaluate("document.getElementById('frame-text').textContent") \
            .startswith("step 100 /")
        # the link reproduces the changed run
        other = _open(browser, page.url, 1280, 900)
        try:
            wait_labels(other, ["GD", "Momentum", "Nesterov"])
            assert [r["x"] for r in ghosts(other)] == [r["x"] for r in after]
        finally:
            other.close()
        assert page.console_errors == []


def test_live_mode_changes_a_networks_training_from_the_current_frame_on(browser,
                                                                        server_url):
    """A training in live mode: α lowered at step 40 retrains with the new α from there
    (the losses before it unchanged; the paths on the new run's own plane), and the
    address holds the change."""
    page = open_at(browser, server_url, "scenario=network-lr")
    try:
        page.locator("#live input").check()
        scrub_to(page, 40)
        helpers(page)
        before = page.evaluate("window.__optvizDrawn.rows.map(r => Array.from(__decode(r.loss)))")
        shown = ghosts(page)
        set_slider(page, "lr", "ArrowLeft", 5)
        wait_changed(page, shown)
        page.wait_for_function("() => location.search.includes('live=40:')")
        after = page.evaluate("window.__optvizDrawn.rows.map(r => Array.from(__decode(r.loss)))")
        assert all(a[:41] == b[:41] for a, b in zip(after, before))
        # the row that follows α (GD #2; the others keep their own 0.01 and 10)
        assert [a[60:] != b[60:] for a, b in zip(after, before)] == [False, True, False]
        assert page.evaluate("document.getElementById('frame-text').textContent") \
            .startswith("step 40 /")
        assert page.locator("#status").inner_text() == ""
        assert page.console_errors == []
    finally:
        page.close()


def test_a_copied_link_reproduces_the_page_and_back_forward_work(browser, server_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server_url)
        page.wait_for_function("() => window.__optvizDrawn", timeout=60000)
        first = ghosts(page)
        set_slider(page, "lr", "ArrowRight", 5)
        wait_changed(page, first)
        page.locator('[id*="row-on"][id*="\\"nesterov\\""] input').uncheck()
        page.wait_for_function("() => window.__optvizDrawn.rows.length === 5")
        page.wait_for_function("() => location.search.includes('rows=')")
        page.locator("#copy-link").click()
        page.wait_for_function("() => document.getElementById('link-note').textContent"
                               " === 'link copied'")
        link = page.evaluate("navigator.clipboard.readText()")
        assert link == page.url and "lr=" in link and "nesterov" not in link
        shown = ghosts(page)
        other = context.new_page()
        other.goto(link)
        other.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.rows.length"
                                " === 5", timeout=60000)
        assert ghosts(other) == shown
        other.reload()
        other.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.rows.length"
                                " === 5", timeout=60000)
        assert ghosts(other) == shown                       # a reload keeps the setup
        other.close()
        page.go_back()                                      # before the row was turned off
        page.wait_for_function("() => window.__optvizDrawn.rows.length === 6")
        page.go_forward()
        page.wait_for_function("() => window.__optvizDrawn.rows.length === 5")
        assert ghosts(page) == shown
        assert errors == []
    finally:
        context.close()


def _answers(page):
    """The callback requests ``page`` makes from now on: [(status, output), ...]."""
    answered = []
    page.on("response", lambda r: answered.append(
        (r.status, json.loads(r.request.post_data)["output"]))
        if "_dash-update-component" in r.url else None)
    return answered


#: the address's α is the one α's slider shows (log₁₀ on the track, to its digits)
ADDRESS_IS_THE_SLIDER = """() => { const lr = new URLSearchParams(location.search).get('lr');
  const knob = document.querySelector('#lr [role=slider]').getAttribute('aria-valuenow');
  return lr !== null && Math.abs(Math.log10(+lr) - +knob) < 2e-3; }"""


def test_a_plain_load_runs_once_and_back_to_the_bare_address_resets(browser, server_url):
    """The bare address shows the layout's defaults as they are: one request, the run (no
    link callback, no row panels re-rendered); a link with the default rows adds only
    the link callback; going back to the bare address from a changed setup still resets
    every control, and back to a link restores that link's setup."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    answered = _answers(page)
    try:
        page.goto(server_url)
        page.wait_for_function("() => window.__optvizDrawn", timeout=60000)
        page.wait_for_load_state("networkidle")
        assert len(answered) == 1 and answered[0][0] == 200
        assert answered[0][1] == "run.data"                     # the run
        assert page.locator("#teaches").inner_text() == SURFACES["ill_conditioned"].teaches
        first = ghosts(page)
        lr0 = page.locator("#lr [role=slider]").get_attribute("aria-valuenow")
        set_slider(page, "lr", "ArrowRight", 5)
        wait_changed(page, first)
        # the address holds the last α (it is written once a second while a slider moves:
        # an earlier one may be there for a moment, and Forward would come back to it)
        page.wait_for_function(ADDRESS_IS_THE_SLIDER)
        changed = ghosts(page)
        same = "(b) => JSON.stringify(__ghosts()) === JSON.stringify(b)"
        page.go_back()
        page.wait_for_function("() => location.search === ''")
        page.wait_for_function(same, arg=first)
        assert page.locator("#lr [role=slider]").get_attribute("aria-valuenow") == lr0
        page.go_forward()
        page.wait_for_function(same, arg=changed)
        assert page.locator("#lr [role=slider]").get_attribute("aria-valuenow") != lr0
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    answered = _answers(page)
    try:
        page.goto(server_url + "?lr=0.1&steps=200")
        page.wait_for_function("() => window.__optvizDrawn && window.__optvizMeta.steps === 200",
                               timeout=60000)
        page.wait_for_load_state("networkidle")
        assert [status for status, _ in answered] == [200, 200]      # the link, the run
        assert "rows.children" not in [out for _, out in answered]
        linked = ghosts(page)
        set_slider(page, "lr", "ArrowRight", 3)
        wait_changed(page, linked)
        page.wait_for_function(ADDRESS_IS_THE_SLIDER)   # (its history entry written)
        page.go_back()                               # the same link as the one loaded
        page.wait_for_function("() => location.search === '?lr=0.1&steps=200'")
        page.wait_for_function(same, arg=linked)
    finally:
        page.close()


def test_downloads_csv_and_json_match_the_plotted_run(browser, server_url):
    STEPS = SCENARIOS["bias-correction"].scene.steps
    with scenario_page(browser, server_url, "bias-correction") as page:
        shown = ghosts(page)
        with page.expect_download() as dl:
            page.locator("#dl-csv").click()
        rows = list(csv.DictReader(io.StringIO(open(dl.value.path()).read())))
        # named by what it holds: the surface, the rows' optimizers, the steps
        assert dl.value.suggested_filename == f"optviz-bowl-adam-adam-nobias-{STEPS}-steps.csv"
        assert len(rows) == 2 * (STEPS + 1)
        assert set(rows[0]) == {"row", "label", "optimizer", "settings", "step", "x", "y",
                                "loss", "lr"}
        adam = [r for r in rows if r["optimizer"] == "adam"]
        close = [abs(float(r["x"]) - x) < 1e-5 for r, x in zip(adam, shown[0]["x"])]
        assert close == [True] * (STEPS + 1)
        assert json.loads(adam[0]["settings"])["betas"] == [0.9, 0.999]
        with page.expect_download() as dl:
            page.locator("#dl-json").click()
        data = json.load(open(dl.value.path()))
        assert [r["label"] for r in data["rows"]] == ["Adam", "Adam (no bias correction)"]
        assert data["scene"]["steps"] == STEPS and len(data["rows"][1]["y"]) == STEPS + 1
        assert abs(data["rows"][1]["y"][7] - shown[1]["y"][7]) < 1e-5


def test_the_camera_button_saves_the_plot_with_the_paths(page):
    page.locator("#graph").hover()
    titles = page.evaluate("() => Array.from(document.querySelectorAll('#graph .modebar-btn'))"
                           ".map(b => b.getAttribute('data-title'))")
    assert not any("Share" in (t or "") for t in titles)     # nothing goes to a cloud
    button = page.locator('#graph .modebar-btn[data-title*="png" i]')
    with page.expect_download() as dl:
        button.click()
    data = open(dl.value.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    box = page.locator("#graph").bounding_box()
    assert abs(width - box["width"]) <= 2 and abs(height - box["height"]) <= 2
    assert len(data) > 30_000          # contour, axes and paths, not an empty frame


def choose_formula(page, text):
    page.locator("#surface").click()
    page.get_by_text("your own formula").click()
    box = page.locator("#formula")
    box.wait_for(state="visible")
    box.fill(text)
    box.press("Enter")


def test_typing_a_formula_draws_its_contour_and_paths(page):
    before = ghosts(page)
    choose_formula(page, "(x - 1)**2 + 10*(y - x**2)**2")
    wait_changed(page, before)
    page.wait_for_function("() => location.search.includes('surface=formula')")
    minima = page.evaluate("() => { const d = __gd().data[1]; return [d.x, d.y]; }")
    assert minima == [[1.0], [1.0]]                     # found by the grid search
    rows = ghosts(page)
    assert len(rows) == 6 and all(len(r["x"]) == 301 for r in rows)
    assert page.evaluate("document.querySelector('#graph-bg .js-plotly-plot').data[0].type") \
        == "contour"
    shot(page, "formula")
    # its view box can be set; the minima are searched there
    drawn = ghosts(page)
    page.locator("#formula-view").fill("0, 2, -0.5, 3")
    page.locator("#formula-view").press("Enter")
    wait_changed(page, drawn)
    # the view box is in view, one unit of x as long as one unit of y
    xr, yr, xlen, ylen = page.evaluate("() => { const l = __gd()._fullLayout; return "
                                       "[l.xaxis.range, l.yaxis.range, l.xaxis._length, "
                                       "l.yaxis._length]; }")
    assert xr[0] <= 0 and xr[1] >= 2 and yr[0] <= -0.5 and yr[1] >= 3
    assert abs((xr[1] - xr[0]) / xlen - (yr[1] - yr[0]) / ylen) < 1e-3 * (yr[1] - yr[0]) / ylen
    # and its minima marked by hand (kept where put: not a stationary point)
    page.locator("#formula-minima").fill("1.5, 2")
    page.locator("#formula-minima").press("Enter")
    page.wait_for_function("() => __gd().data[1].x[0] === 1.5 && __gd().data[1].y[0] === 2")
    # (the paths are drawn from the run's meta a moment after the figure: wait for the
    # meta with these minima, or the picture to keep below would be the previous one)
    page.wait_for_function("() => (window.__optvizDrawn.marks || [])"
                           ".some(m => m[0] === 1.5 && m[1] === 2)")
    # a bad formula: the message says what and where, the picture stays, and so does α
    drawn = ghosts(page)
    alpha = page.locator("#lr-text").inner_text()
    page.locator("#formula").fill("x + 3*z")
    page.locator("#formula").press("Enter")
    page.wait_for_function("() => document.getElementById('formula-err').textContent"
                           ".includes(\"unknown name 'z' at column 7\")")
    assert ghosts(page) == drawn
    assert page.locator("#lr-text").inner_text() == alpha
    # one whose start lies outside its domain: said so, nothing drawn over the picture
    page.locator("#formula").fill("log(x - 1) + y**2")
    page.locator("#formula").press("Enter")
    page.wait_for_function("() => document.getElementById('formula-err').textContent"
                           ".includes('not finite at the start')")
    assert ghosts(page) == drawn
    # one finite at the start that overflows in part of its box: drawn with finite
    # levels (a page error and empty axes before), and said so under the header
    page.locator("#formula").fill("exp(exp(4*x)) + y**2")     # (x > 1.64 in 0..2)
    page.locator("#formula").press("Enter")
    wait_changed(page, drawn)
    page.wait_for_function("() => document.getElementById('teaches').textContent"
                           ".includes('not finite in part of its box')")
    lo, hi = page.evaluate("() => { const d = document.querySelector('#graph-bg "
                           ".js-plotly-plot')._fullData[0]; return [d.zmin, d.zmax]; }")
    assert lo < hi < 1e29
    drawn = ghosts(page)
    page.locator("#formula").fill("__import__('os').system('ls')")
    page.locator("#formula").press("Enter")
    page.wait_for_function("() => document.getElementById('formula-err').textContent"
                           ".includes('not allowed')")
    assert ghosts(page) == drawn
    assert page.console_errors == []


def test_the_gradient_check_panel_compares_analytic_and_numerical_gradients(page):
    page.locator("#check input").check()
    page.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.check")
    scrub_to(page, 40)
    page.wait_for_function("() => document.getElementById('gradcheck').textContent"
                           ".includes('step 40')")
    rows = page.locator("#gradcheck tbody tr")
    assert rows.count() == 6
    errors = [float(t) for t in page.locator("#gradcheck td.rel").all_inner_texts()]
    assert all(e < 1e-6 for e in errors), errors
    assert page.console_errors == []


def test_a_data_surface_shows_its_samples_the_fits_and_takes_a_batch_size(browser, server_url):
    page = open_at(browser, server_url, "surface=data_linear")
    try:
        page.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.data")
        page.locator("#data-box").scroll_into_view_if_needed()   # (drawn once in view)
        page.wait_for_function("() => { const g = document.querySelector('#data-plot "
                               ".js-plotly-plot'); return g && g.data && g.data.length === 7 "
                               "&& g.data[1].x.length === 48; }")
        assert page.locator("#data-box").is_visible() and page.locator("#batch").is_visible()
        helpers(page)
        scrub_to(page, 10)
        # the GD row's line at step 10 is w1 x + w2 with that step's weights
        fit = page.evaluate("""() => {
            const g = document.querySelector('#data-plot .js-plotly-plot');
            const r = window.__optvizDrawn.rows[0];
            return {x: Array.from(g.data[1].x), y: Array.from(g.data[1].y),
                    w: [__decode(r.x)[10], __decode(r.y)[10]]}; }""")
        assert abs(fit["y"][5] - (fit["w"][0] * fit["x"][5] + fit["w"][1])) < 1e-4
        full = ghosts(page)
        page.locator("#batch").fill("4")
        page.locator("#batch").press("Enter")
        wait_changed(page, full)
        page.wait_for_function("() => location.search.includes('b=4')")
        noisy = ghosts(page)
        assert noisy[0]["x"][:1] == full[0]["x"][:1] and noisy[0]["x"][50] != full[0]["x"][50]
        page.locator("#batch").fill("65")                   # more than the 64 samples
        page.locator("#batch").press("Enter")
        page.wait_for_function("() => document.getElementById('batch-err').textContent"
                               ".includes('[1, 64]')")
        page.locator("#batch").fill("4")                    # clears the message
        page.locator("#batch").press("Enter")
        page.wait_for_function("() => !document.getElementById('batch-err').textContent")
        page.locator("#batch").fill("0")        # was taken silently as "full batch"
        page.locator("#batch").press("Enter")
        page.wait_for_function("() => document.getElementById('batch-err').textContent"
                               ".includes('batch_size: 0 is not a whole number in [1, 64]')")
        shot(page, "data-linear")
        assert page.console_errors == []
    finally:
        page.close()


def test_a_basin_map_runs_in_the_background_with_progress_and_loads_a_start(browser,
                                                                            server_url):
    page = open_at(browser, server_url, "surface=himmelblau&rows=gd,momentum")
    try:
        page.locator(".explore summary").click()
        # before a run: a word on what to do, not empty axes
        assert page.locator("#ex-graph").inner_text().strip().startswith("Choose a map")
        assert page.evaluate("() => document.querySelector('#ex-graph .js-plotly-plot')"
                             ".layout.xaxis.visible") is False
        page.locator("#ex-n").click()
        page.get_by_role("option", name="256", exact=True).click()
        page.wait_for_function("() => document.querySelector('#ex-n').textContent"
                               ".includes('256')")
        # a step count not used before in this server (finished maps are cached), and a
        # map long enough (~1.5 s) for the panel's polls, twice a second, to see it move
        page.locator("#ex-steps").fill(str(1200 + int(time.time() * 1000) % 300))
        page.locator("#ex-run").click()
        seen = []
        for _ in range(600):                 # up to a minute on a loaded machine
            value, top, status = page.evaluate(
                "() => { const e = document.getElementById('ex-progress'); return "
                "[Number(e.value), Number(e.max), document.getElementById('ex-status')"
                ".textContent]; }")
            seen.append((value, top))
            if status:
                break
            page.wait_for_timeout(100)
        assert "basin map" in status, status
        assert any(0 < v < t for v, t in seen), seen[-5:]   # the bar moved on its way
        heatmaps = page.evaluate("() => document.querySelector('#ex-graph .js-plotly-plot')"
                                 ".data.filter(d => d.type === 'heatmap').length")
        assert heatmaps == 2
        assert page.locator("#ex-cancel").is_disabled() and page.locator("#ex-run").is_enabled()
        shot(page, "basin-map")
        # a click on a cell starts the main plot there
        page.locator("#ex-graph .nsewdrag").first.scroll_into_view_if_needed()
        box = page.locator("#ex-graph .nsewdrag").first.bounding_box()
        page.mouse.click(box["x"] + 0.25 * box["width"], box["y"] + 0.25 * box["height"])
        try:
            page.wait_for_function("() => window.__optvizDrawn.start[0] < -1 && "
                                   "window.__optvizDrawn.start[1] > 1", timeout=30000)
        except Exception:
            raise AssertionError(page.evaluate(
                "() => [window.__optvizDrawn.start, "
                "document.getElementById('status').textContent]")) from None
        assert page.console_errors == []
    finally:
        page.close()


def run_explore(page, kind: str) -> None:
    """Open Explore, choose ``kind`` (its label), run it and wait for its result."""
    page.locator(".explore summary").click()
    page.get_by_text(kind, exact=True).click()
    page.locator("#ex-run").click()
    page.wait_for_function("(kind) => document.getElementById('ex-status').textContent"
                           ".startsWith(kind)", arg=kind, timeout=60000)


def test_a_heatmap_of_the_default_rows_varies_gds_momentum(browser, server_url):
    # the default rows start with GD, which has no beta1: the heatmap is GD with momentum
    # (this answered 500 and left the box empty before)
    page = open_at(browser, server_url, f"steps={300 + int(time.time() * 1000) % 200}")
    try:
        run_explore(page, "lr × β heatmap")
        title, kinds = page.evaluate(
            "() => { const g = document.querySelector('#ex-graph .js-plotly-plot'); "
            "return [g.layout.title.text, g.data.map(d => d.type)]; }")
        assert title.startswith("GD with momentum β") and kinds == ["heatmap"]
        # the boxes a kind ignores are not shown: a heatmap has a grid and no trials,
        # random search trials and no grid (it draws on a fixed 32 x 32 sweep)
        assert page.locator("#ex-n-box").is_visible()
        assert not page.locator("#ex-trials-box").is_visible()
        page.get_by_text("random search", exact=True).click()
        page.locator("#ex-trials-box").wait_for(state="visible")
        assert not page.locator("#ex-n-box").is_visible()
        assert page.console_errors == []
    finally:
        page.close()


def test_the_html_export_plays_offline(browser, server_url, tmp_path):
    with scenario_page(browser, server_url, "ill-conditioned") as page:
        with page.expect_download() as dl:
            page.locator("#dl-html").click()
        target = tmp_path / "run.html"
        dl.value.save_as(target)
    context = browser.new_context(offline=True)           # slides: no network at all
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(target.as_uri())
        page.wait_for_function("() => { const g = document.querySelector('.js-plotly-plot');"
                               " return g && g._transitionData && "
                               "g._transitionData._frames.length > 100; }", timeout=30000)
        length = "() => document.querySelector('.js-plotly-plot').data[3].x.length"
        before = page.evaluate(length)
        page.get_by_text("▶ play").click()
        page.wait_for_function(f"() => ({length})() > {before} + 20", timeout=30000)
        # the filled contour is a picture under the axes, still there while it plays (a
        # contour trace vanished at the first frame: Plotly.animate erases it)
        assert page.evaluate("document.querySelector('.js-plotly-plot').layout.images[0]"
                             ".source").startswith("data:image/png;base64,")
        assert page.evaluate("document.querySelectorAll('.layer-below image, "
                             ".imagelayer image').length") >= 1
        assert errors == []
    finally:
        context.close()


def test_the_plot_has_a_text_alternative_kept_current(browser, server_url):
    """A table of every row's outcome and one polite announcement per run (the legend,
    which changes every frame, is hidden from screen readers)."""
    page = open_at(browser, server_url, "scenario=lr-diagnostics")
    try:
        wait_labels(page, scenario_scene_on_page("lr-diagnostics").labels)
        assert page.locator("#legend").get_attribute("aria-hidden") == "true"
        assert page.locator("#run-summary").get_attribute("aria-live") == "polite"
        page.wait_for_function("() => document.getElementById('run-summary').textContent"
                               ".startsWith('Run of 3 optimizers over 500 steps')")
        cells = page.evaluate("() => Array.from(document.querySelectorAll('#results tbody tr'),"
                              " tr => Array.from(tr.cells, c => c.textContent))")
        assert [c[0] for c in cells] == scenario_scene_on_page("lr-diagnostics").labels
        assert cells[2][3] != "–" and cells[0][3] == "–"        # α = 0.51 diverged
        assert cells[1][2] != "–"                                # 0.48 converged, at a step
        assert "1 diverged" in page.locator("#run-summary").inner_text()
        before = page.locator("#run-summary").inner_text()
        page.goto(server_url + "?scenario=ill-conditioned")
        # (the new page has no summary until Dash has drawn it: not an error)
        page.wait_for_function("(b) => { const s = document.getElementById('run-summary'); "
                               "return s && s.textContent !== b && s.textContent"
                               ".startsWith('Run of 3'); }", arg=before)
        assert page.console_errors == []
    finally:
        page.close()
