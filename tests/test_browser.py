"""The real page in real Chromium against a real gunicorn: what a student sees."""
import json
import math
import pathlib

import pytest

from optviz import OPTIMIZERS
from optviz.web import PRELOADED

from .conftest import ARTIFACTS, _open
from .test_web import _page_rows_store

ROOT = pathlib.Path(__file__).resolve().parents[1]

JS_HELPERS = """
window.__decode = (v) => {
  if (v == null) return [];
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Array.from(v);
  const bin = atob(v.bdata), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const Ctor = v.dtype === 'f8' ? Float64Array : Float32Array;
  return Array.from(new Ctor(bytes.buffer));
};
window.__gd = () => document.querySelector('#graph .js-plotly-plot');
// the paths the page has drawn (on its canvas, in 2-D), from the run it received
window.__ghosts = () => { const m = window.__optvizDrawn; if (!m) return [];
  return m.rows.map(r => ({name: r.label, x: __decode(r.x), y: __decode(r.y)})); };
"""


def helpers(page):
    page.evaluate(JS_HELPERS)


def ghosts(page):
    """Every row's whole path as drawn on the page (label, x, y)."""
    helpers(page)
    return page.evaluate("__ghosts()")


def legend(page):
    return page.locator("#legend").inner_text()


def legend_clears_the_modebar(page):
    """Whether the legend and Plotly's modebar (always shown on a touch screen) do not
    overlap."""
    page.locator("#legend").wait_for()
    return page.evaluate("""() => {
        const a = document.querySelector('#graph .modebar').getBoundingClientRect();
        const b = document.querySelector('#legend').getBoundingClientRect();
        return a.width > 0 && b.width > 0 && (a.right <= b.left || b.right <= a.left
                                              || a.bottom <= b.top || b.bottom <= a.top); }""")


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def set_slider(page, slider_id, key, times=1):
    handle = page.locator(f"#{slider_id} [role=slider]").first
    handle.focus()
    for _ in range(times):
        page.keyboard.press(key)
    return handle


def wait_changed(page, before, timeout=30000):
    """Wait until the plotted whole paths differ from ``before`` and the page has drawn
    the last run it asked for (a slider moved several times asks for the runs in
    between only while none is on its way: assets/optviz.js)."""
    helpers(page)
    page.wait_for_function(
        "(b) => { const g = __ghosts(); return g.length !== b.length ||"
        " g.some((r, i) => r.x.length !== b[i].x.length || r.x.some((v, j) => v !== b[i].x[j])); }",
        arg=before, timeout=timeout)
    wait_settled(page, timeout)


SETTLED = """() => { const g = window.__optvizGate;
  return !g.busy && !g.waiting && g.shown === g.sent; }"""


def wait_settled(page, timeout=30000):
    """Wait until no run is on its way or waiting and the last one asked for is drawn."""
    page.wait_for_function(SETTLED, timeout=timeout)


def test_page_loads_with_every_default_optimizer_and_no_console_errors(page):
    rows = ghosts(page)
    assert [r["name"] for r in rows] == ["GD", "Momentum", "Nesterov", "AdaGrad", "RMSProp",
                                         "Adam"]
    assert all(len(r["x"]) == 301 for r in rows)
    assert all(math.isfinite(v) for r in rows for v in r["x"] + r["y"])
    assert "GD" in legend(page) and "L =" in legend(page)
    assert page.evaluate("document.querySelector('#graph-bg .js-plotly-plot').data[0].type") \
        == "contour"
    # the canvas over the plot really has the paths on it: sample the pixels
    painted = page.evaluate("""() => {
        const c = document.querySelector('#graph canvas.optviz-frame');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n; }""")
    assert painted > 2000
    # titles sent as entities (figures._text) are drawn as the characters (the side
    # plots once in view: below the fold they wait, not in the first picture's way)
    # (handed over once the paths are painted: wait for it, then it must not be drawn)
    page.wait_for_function("() => window.__optvizSide.pending['lr-plot'] !== undefined")
    assert page.evaluate("!document.querySelector('#lr-plot .js-plotly-plot')")
    page.locator("#lr-plot").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#lr-plot .js-plotly-plot')")
    titles = page.evaluate("Array.from(document.querySelectorAll("
                           "'text.xtitle, text.ytitle, text.gtitle'), e => e.textContent)")
    assert {"x (w₁)", "y (w₂)", "learning rate α_t"} <= set(titles)
    assert not any("&#" in t for t in titles)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "default")
    # the README's screenshot is the page as a student first sees it
    page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
    assert page.console_errors == []


def test_each_checkbox_shows_and_hides_its_trace(page):
    before = ghosts(page)
    page.locator("#legend").wait_for()
    page.get_by_label("GD", exact=True).uncheck()
    wait_changed(page, before)
    names = [r["name"] for r in ghosts(page)]
    assert "GD" not in names and len(names) == 5
    assert "GD" not in legend(page).split("\n")[0]
    page.get_by_text("more optimizers").click()            # drawn when first opened
    now = ghosts(page)
    page.get_by_label("AdamW", exact=True).check()
    assert page.locator("#more-rows .opt-row").count() == len(OPTIMIZERS) - 6
    wait_changed(page, now)
    names = [r["name"] for r in ghosts(page)]
    assert "AdamW" in names and len(names) == 6
    now = ghosts(page)
    page.get_by_label("GD", exact=True).check()
    wait_changed(page, now)
    assert "GD" in [r["name"] for r in ghosts(page)]
    assert page.console_errors == []


def test_moving_the_lr_slider_changes_the_paths(page):
    before = ghosts(page)
    with page.expect_request(lambda r: "_dash-update-component" in r.url
                             and "\"run\"" in (r.post_data or "")) as sent:
        handle = set_slider(page, "lr", "ArrowRight", 10)
    page.wait_for_function("() => document.querySelector('#lr [role=slider]')"
                           ".getAttribute('aria-valuenow') !== null")
    wait_changed(page, before)
    after = ghosts(page)
    assert after[0]["x"][5] != before[0]["x"][5]
    assert float(handle.get_attribute("aria-valuenow")) > -1.53
    assert "α = " in page.locator("#lr-text").inner_text()
    # every row's controls travel in one store (assets/optviz.js rowsStore), exactly as
    # the HTTP tests and the load benchmark build it from the layout
    body = json.loads(sent.value.post_data)
    assert not any(isinstance(i, list) for i in body["inputs"])
    store = next(i["value"] for i in body["inputs"] if i["id"] == "rows-store")
    assert store == _page_rows_store() and len(store) == 6    # "more optimizers" unopened
    assert page.console_errors == []


def test_clicking_the_plot_moves_every_start_point_there(page):
    before = ghosts(page)
    box = page.locator("#graph .nsewdrag").first.bounding_box()     # the plot area
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    wait_changed(page, before)
    rows = ghosts(page)
    starts = {(round(r["x"][0], 4), round(r["y"][0], 4)) for r in rows}
    assert len(starts) == 1
    (x, y), = starts
    assert 2 < x < 8 and 0.5 < y < 4.5          # upper right of the [-10,10]x[-5,5] view
    # the link carries the point to 4 significant digits, not the browser's 16
    page.wait_for_function("() => window.location.search.includes('start=')")
    start = page.evaluate("() => new URLSearchParams(window.location.search).get('start')")
    assert all(len(v.lstrip("-").replace(".", "")) <= 4 for v in start.split(",")), start
    assert page.console_errors == []


FOCUSED = """() => { const e = document.activeElement, r = e.getBoundingClientRect(),
  cs = getComputedStyle(e), box = e.closest('[id]');
  return {tag: e.tagName, id: box ? box.id : '', y: r.top + scrollY, x: r.left,
          text: e.textContent.slice(0, 40),
          outline: cs.outlineStyle !== 'none' ? parseFloat(cs.outlineWidth) : 0,
          column: e.closest('.controls') ? 'controls' : e.closest('.below') ? 'below'
                  : e.closest('.plot-col') ? 'plot' : 'top'}; }"""


def test_the_keyboard_reaches_every_control_in_visual_order_with_a_visible_focus(page):
    """From the top of the page: a skip link first (two presses to the α slider), the
    plot, its play bar and its toolbar (live, inspect, link, downloads), then the α
    slider (within 24 presses; it took 50), every control with a focus outline of 2 px
    or more, the settings column top to bottom and before the rest under the plot."""
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    stops = []
    for _ in range(70):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
    assert stops[0]["tag"] == "A" and stops[0]["text"] == "skip to the settings"
    lr = next(i for i, s in enumerate(stops) if s["id"] == "lr")
    assert lr < 24, [s["id"] for s in stops[:lr + 1]]
    ids = [s["id"] for s in stops[:lr]]
    assert ids.index("speed") < ids.index("live") < ids.index("dl-py")
    assert all(s["outline"] >= 2 for s in stops if s["tag"] != "BODY"), \
        [s for s in stops if s["outline"] < 2]
    order = [s["column"] for s in stops if s["tag"] != "BODY"]
    first_below = order.index("below")
    assert "controls" not in order[first_below:first_below + 20]   # no jump back up
    assert order.index("plot") < order.index("controls") < first_below
    settings = [s for s in stops if s["column"] == "controls"]
    # (a slider's number box sits to the right of it, on the same line)
    assert all(b["y"] >= a["y"] - 12 for a, b in zip(settings, settings[1:]))
    # the skip link: Enter, then Tab lands on the α slider
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["id"] == "lr"
    # sliders move by arrow keys, play and pause by Space
    before = ghosts(page)
    page.keyboard.press("ArrowRight")
    wait_changed(page, before)
    page.locator("#play").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => window.__optvizPlayer.playing")
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.__optvizPlayer.playing")
    assert page.console_errors == []


def test_play_advances_and_pause_stops(page):
    page.locator("#play").click()
    assert page.locator("#play").inner_text().endswith("pause")
    page.wait_for_function("() => /step (\\d+) /.exec(document.getElementById('frame-text')"
                           ".innerText) && +/step (\\d+) /.exec(document.getElementById("
                           "'frame-text').innerText)[1] > 20")
    page.locator("#play").click()             # pause
    frame = page.locator("#frame-text").inner_text()
    page.wait_for_timeout(600)
    assert page.locator("#frame-text").inner_text() == frame
    k = int(frame.split()[1])
    assert 0 < k < 300
    # the frame is drawn by the browser, on the canvas over the plot
    assert page.evaluate("window.__optvizPlayer.frames") > 10
    assert page.locator("#graph canvas.optviz-frame").count() == 1
    assert page.console_errors == []


def test_scrubbing_and_stepping_set_the_frame(page):
    set_slider(page, "scrub", "Home")
    page.wait_for_function("() => document.getElementById('frame-text').innerText"
                           ".startsWith('step 0 /')")
    assert page.evaluate("window.__optvizPlayer.playing") is False
    page.locator("#step-fwd").click()
    page.locator("#step-fwd").click()
    page.wait_for_function("() => document.getElementById('frame-text').innerText"
                           ".startsWith('step 2 /')")
    page.locator("#step-back").click()
    page.wait_for_function("() => document.getElementById('frame-text').innerText"
                           ".startsWith('step 1 /')")
    assert page.console_errors == []


GRID_ROWS = """(id) => { const z = document.querySelector('#' + id + ' .js-plotly-plot')
  ._fullData[0].z; return [z.length, z[0] && z[0].length]; }"""


def test_3d_toggle_shows_a_surface(page):
    # Plotly reads the contour's and the surface's z as grids (it took them for one long
    # row: a wrong contour, and no surface at all)
    rows, cols = page.evaluate(GRID_ROWS, "graph-bg")
    assert rows > 50 and cols == rows
    page.get_by_label("3-D").check()
    # drawn by the full Plotly bundle, fetched for it (the page starts with the cartesian
    # one, which has no surface: the scene would stay empty)
    page.wait_for_function("() => { const gd = document.querySelector('#graph .js-plotly-plot');"
                           " return window.__optvizPlotlyFull && gd._fullLayout.scene &&"
                           " gd._fullData[0].type === 'surface' && gd._fullData[0].visible"
                           " && gd.querySelector('.gl-container canvas'); }")
    assert page.evaluate(GRID_ROWS, "graph") == [rows, cols]
    assert page.evaluate("document.querySelector('#graph .js-plotly-plot').data[4].type") \
        == "scatter3d"
    # readable on a projector: a light surface with its level lines (not one dark sheet),
    # paths 7 px wide, few ticks, and the legend beside the scene, not over it
    look = page.evaluate("""() => { const gd = document.querySelector('#graph .js-plotly-plot'),
        s = gd._fullData[0], scene = gd._fullLayout.scene, box = gd.getBoundingClientRect(),
        legend = document.getElementById('legend').getBoundingClientRect();
        return {low: s.colorscale[0][1], lines: s.contours.z.show,
                width: gd._fullData[5].line.width,
                ticks: scene.zaxis.nticks, sceneRight: box.left + scene.domain.x[1] * box.width,
                legendLeft: legend.left}; }""")
    assert look["low"] == "#f7fbff" and look["lines"] and look["width"] >= 7
    assert look["ticks"] <= 5 and look["legendLeft"] >= look["sceneRight"] - 1
    # the 2-D paths' canvas does not linger over the 3-D scene (it did), and comes back
    overlay = "getComputedStyle(document.querySelector('canvas.optviz-frame')).display"
    page.wait_for_function(f"() => {overlay} === 'none'")
    # 3-D axis titles are drawn as typed (no entities: WebGL labels would show "&#8321;")
    assert page.evaluate("document.querySelector('#graph .js-plotly-plot')"
                         ".layout.scene.xaxis.title.text") == "x (w₁)"
    shot(page, "3d")
    page.get_by_label("2-D").check()
    page.wait_for_function(f"() => {overlay} !== 'none'")
    before = ghosts(page)                          # 2-D again, with the full bundle
    set_slider(page, "lr", "ArrowRight", 5)
    wait_changed(page, before)
    assert page.console_errors == []


def test_the_first_picture_waits_for_neither_3d_plotly_nor_mathjax(browser, server_url):
    """A fresh tab draws the paths with Plotly's cartesian bundle and no MathJax; the
    update rules are typeset after the picture, a row's rule when its settings open."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append(r.url.split("?")[0].rsplit("/", 1)[-1]))
    errors, warnings = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else
            warnings.append(m.text) if m.type == "warning" else None)
    page.goto(server_url)
    page.wait_for_function("() => window.__optvizDrawn", timeout=60000)
    at_picture = list(asked)
    assert "vendor-plotly-cartesian.min.js" in at_picture
    # what the picture waits for that Dash asks for late is fetched from the start,
    # beside Dash's scripts (before its layout is asked for), and once: the preload is
    # what the page then uses
    for path in PRELOADED:
        name = path.rsplit("/", 1)[-1]
        assert at_picture.count(name) == 1, name
        assert at_picture.index(name) < at_picture.index("_dash-layout"), name
    assert "plotly.min.js" not in at_picture and "async-mathjax.js" not in at_picture
    assert page.locator("#more-rows .opt-row").count() == 0      # drawn when opened
    page.locator("#equations").scroll_into_view_if_needed()   # typeset in view
    page.wait_for_function("() => document.querySelectorAll('#equations mjx-container')"
                           ".length >= 6", timeout=30000)
    assert "plotly.min.js" not in asked                            # 2-D only: never
    settings = page.locator("details.row-settings").nth(5)         # Adam's
    assert settings.locator(".row-eq mjx-container").count() == 0
    settings.locator("summary").click()
    settings.locator(".row-eq mjx-container").wait_for(timeout=10000)
    # typeset, not LaTeX source, and no NaN sizes (MathJax typesetting in a hurry)
    assert "\\" not in settings.locator(".row-eq").inner_text()
    assert errors == []
    assert not [w for w in warnings if "preload" in w], warnings
    context.close()


def test_diverging_lr_shows_diverged_label_and_no_nan(page):
    before = ghosts(page)
    set_slider(page, "lr", "End")
    wait_changed(page, before)
    page.wait_for_function("() => document.getElementById('legend').innerText"
                           ".includes('diverged at step')")
    rows = ghosts(page)
    assert all(math.isfinite(v) for r in rows for v in r["x"] + r["y"])
    x0, x1 = page.evaluate("__gd().layout.xaxis.range")
    assert (x0, x1) == (-10, 10)             # axes stay on the view box
    shot(page, "diverged")
    assert page.console_errors == []


def test_bad_value_shows_message_and_keeps_the_picture(page):
    before = ghosts(page)
    steps = page.locator("#steps")
    steps.fill("-5")
    steps.press("Enter")
    page.wait_for_function("() => document.getElementById('steps-err').innerText.length > 0")
    assert "steps" in page.locator("#steps-err").inner_text()
    assert ghosts(page) == before
    steps.fill("120")
    steps.press("Enter")
    page.wait_for_function("() => document.getElementById('steps-err').innerText === ''")
    wait_changed(page, before)
    assert len(ghosts(page)[0]["x"]) == 121
    assert page.console_errors == []


def test_a_row_can_be_duplicated_and_overridden(page):
    before = ghosts(page)
    page.locator('.opt-row:has([id*="row-on"][id*="\\"gd\\""]) button.dup').first.click()
    wait_changed(page, before)
    names = [r["name"] for r in ghosts(page)]
    assert len(names) == 7 and names[0] == "GD" and "GD #2" in names
    # give the copy its own learning rate: its label says so and its path differs
    copy = page.locator('[id*="row-lr"][id*="gd~2"]')
    page.locator('.opt-row:has([id*="gd~2"]) summary').click()
    now = ghosts(page)
    copy.fill("0.3")
    copy.press("Enter")
    wait_changed(page, now)
    rows = {r["name"]: r for r in ghosts(page)}
    # (the row on the α slider says its α too, now that a copy has its own)
    first = next(n for n in rows if n.startswith("GD (α="))
    assert "GD #2 (α=0.3)" in rows and rows["GD #2 (α=0.3)"]["x"][3] != rows[first]["x"][3]
    assert page.console_errors == []


SCALES = """() => ['#graph', '#graph-bg'].map(id => {
    const l = document.querySelector(id + ' .js-plotly-plot')._fullLayout;
    return [(l.xaxis.range[1] - l.xaxis.range[0]) / l.xaxis._length,
            (l.yaxis.range[1] - l.yaxis.range[0]) / l.yaxis._length,
            l.xaxis._offset, l.xaxis._length, l.yaxis._offset, l.yaxis._length]; })"""


@pytest.mark.parametrize("query", ["", "surface=rosenbrock", "surface=data_sigmoid_net"])
def test_one_unit_of_x_is_one_unit_of_y(browser, server_url, query):
    """Honest geometry: the ill-conditioned bowl (20 x 10) and Rosenbrock (4 x 4) drawn
    to scale, the paths' plot and the contour under it on the very same axes."""
    page = _open(browser, server_url + ("?" + query if query else ""), 1280, 720)
    try:
        (xs, ys, *box), (bxs, bys, *bbox) = page.evaluate(SCALES)
        assert abs(xs - ys) < 1e-3 * ys and (xs, ys, box) == (bxs, bys, bbox)
    finally:
        page.close()


PLOT_AREA = """() => { const gd = document.querySelector('#graph .js-plotly-plot'),
  b = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return {left: b.left + xa._offset, right: b.left + xa._offset + xa._length,
          top: b.top + ya._offset, bottom: b.top + ya._offset + ya._length}; }"""


def clear_of(a, b):
    return a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] \
        or b["bottom"] <= a["top"]


@pytest.mark.parametrize("query", ["", "surface=rosenbrock"], ids=["wide", "square"])
def test_on_a_phone_plot_legend_and_alpha_share_the_first_screen_and_a_tap_starts(
        browser, server_url, query):
    phone = _open(browser, f"{server_url}/?{query}", 390, 844, is_mobile=True,
                  has_touch=True)
    try:
        phone.wait_for_function("() => window.__optvizDrawn")
        phone.wait_for_timeout(300)                     # the plot area takes its shape
        area = phone.evaluate(PLOT_AREA)
        legend = phone.locator("#legend").bounding_box()
        legend = {"left": legend["x"], "right": legend["x"] + legend["width"],
                  "top": legend["y"], "bottom": legend["y"] + legend["height"]}
        assert clear_of(area, legend) and legend["top"] >= area["bottom"]   # under it
        # one unit of x is one unit of y, and the area is not mostly blank around it
        graph = phone.locator("#graph").bounding_box()
        assert area["bottom"] - area["top"] > 0.45 * graph["height"]
        lr = phone.locator("#lr").bounding_box()
        assert lr["y"] + lr["height"] <= 844 and area["top"] >= 0
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # a tap on the plot sets the start (Plotly took the touch and no click came)
        before = ghosts(phone)
        x = area["left"] + 0.75 * (area["right"] - area["left"])
        y = area["top"] + 0.25 * (area["bottom"] - area["top"])
        phone.touchscreen.tap(x, y)
        wait_changed(phone, before)
        phone.wait_for_function("() => window.location.search.includes('start=')")
        assert phone.console_errors == []
    finally:
        phone.close()


def test_tables_fit_a_phone(phone):
    phone.get_by_label("inspect state").check()
    phone.locator("#inspector table").wait_for()
    phone.locator(".results-box summary").click()
    phone.locator("#results table").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for table in ("#inspector table", "#results table"):
        assert phone.evaluate(f"""() => {{ const t = document.querySelector('{table}'),
            box = t.parentElement, cs = getComputedStyle(box);
            return t.offsetWidth <= box.clientWidth - parseFloat(cs.paddingLeft)
                   - parseFloat(cs.paddingRight) + 1; }}"""), table
    assert phone.console_errors == []


def test_a_legend_sits_beside_a_square_plot_on_a_projector(browser, server_url):
    page = _open(browser, f"{server_url}/?surface=rosenbrock", 1280, 720)
    try:
        page.wait_for_function("() => window.__optvizDrawn")
        box = page.locator("#legend").bounding_box()
        legend = {"left": box["x"], "right": box["x"] + box["width"], "top": box["y"],
                  "bottom": box["y"] + box["height"]}
        assert clear_of(page.evaluate(PLOT_AREA), legend)
        assert page.locator("#legend").get_attribute("data-corner").startswith("beside")
    finally:
        page.close()


def test_phone_viewport_still_shows_the_plot(phone):
    graph = phone.locator("#graph").bounding_box()
    controls = phone.locator(".controls").bounding_box()
    assert graph["width"] > 330 and graph["height"] >= 844 / 3 - 1   # the view box's shape
    assert controls["y"] >= graph["y"] + graph["height"]   # controls stack under the plot
    assert legend_clears_the_modebar(phone)
    # the knobs right under the plot: the plot and the learning-rate slider fit on one
    # screen, and the settings come before the optimizer list and the side plots
    lr = phone.locator("#lr").bounding_box()
    assert lr["y"] + lr["height"] - graph["y"] <= 844
    assert lr["y"] < phone.locator("#rows").bounding_box()["y"]
    assert lr["y"] < phone.locator("#loss-plot").bounding_box()["y"]
    shot(phone, "phone")
    assert phone.console_errors == []


MAIN = ["#graph", "#play", "#lr", "#beta1", "#beta2", "#noise", "#schedule", "#steps"]


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_projector_size_shows_plot_and_main_controls_without_scrolling(browser, server_url,
                                                                        size):
    from optviz.scenarios import SCENARIOS
    pg = _open(browser, server_url, *size)
    try:
        for i, name in enumerate([None, *SCENARIOS]):
            if name:                        # each scenario from the menu, as in a lecture
                pg.locator("#scenario").click()
                pg.get_by_text(f"{i}. {SCENARIOS[name].title}", exact=True).click()
                pg.wait_for_function("(q) => location.search === q", arg=f"?scenario={name}",
                                     timeout=30000)
                wait_settled(pg)
                pg.evaluate("window.scrollTo(0, 0)")
            for sel in MAIN:
                box = pg.locator(sel).bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= size[1], (name, sel)
            # the page scrolls, not a column of its own
            assert pg.evaluate("() => { const a = document.querySelector('.controls'); "
                               "return a.scrollHeight <= a.clientHeight + 1 && "
                               "getComputedStyle(a).overflowY !== 'auto'; }"), name
        pg.goto(server_url)
        pg.wait_for_function("() => window.__optvizDrawn", timeout=30000)
        assert pg.locator("#graph").bounding_box()["height"] > 380
        # the toolbar under the animation controls is one row, not two
        tops = pg.evaluate("Array.from(document.querySelectorAll('.toolbar > *:not(:empty)'),"
                           " e => e.getBoundingClientRect().top)")
        assert len(tops) >= 7 and max(tops) - min(tops) < 10
    finally:
        pg.close()


def test_past_four_rows_the_paths_differ_without_colour(page):
    """Six rows: each path has its own dash pattern, shown in its legend swatch."""
    dashes = page.evaluate("() => window.__optvizDrawn.rows.map((r, i, rows) => "
                           "JSON.stringify(window.__optvizDashOf(rows, i)))")
    assert len(dashes) == 6 and len(set(dashes)) == 6
    swatches = page.evaluate("() => Array.from(document.querySelectorAll('#legend .legend-row'),"
                             " r => (r.querySelector('line') || {getAttribute: () => ''})"
                             ".getAttribute('stroke-dasharray'))")
    assert swatches[0] == "" and all(swatches[1:]) and len(set(swatches[1:])) == 5
