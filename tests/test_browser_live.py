"""Live as you drag, and a page that never surprises: the real page in real Chromium against
a real gunicorn. The paths follow a moving slider (mouse, touch, a held key), one run
request on its way at a time, ending on the last value even on a slow network; and what
broke the feel before: a paused frame lost to a display control, number boxes deaf to
Enter, α ticks that missed, a clipped legend, a refused link drawn on the wrong surface,
and the keyboard's and screen readers' way round the plot."""
import csv
import io
import json
import math
import urllib.parse

import numpy as np
import pytest

from optviz import SURFACES, simulate
from optviz.web.controls import scene_from_controls
from optviz.web.links import controls_from_query

from .conftest import _open
from .test_browser import ghosts, helpers, wait_settled

#: counts every new run the page draws (window.__optvizDrawn is replaced once a run)
COUNT_DRAWS = """() => { window.__draws = 0; let last = window.__optvizDrawn;
  (function watch() { if (window.__optvizDrawn !== last) { last = window.__optvizDrawn;
    window.__draws++; } requestAnimationFrame(watch); })(); }"""

IS_RUN = '"output":"run.data"'


def query(page) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def slider_value(page, slider_id) -> float:
    return float(page.locator(f"#{slider_id} [role=slider]").get_attribute("aria-valuenow"))


def assert_drawn_is_the_address(page):
    """The paths on the screen are the run the address describes (to float32, as sent)."""
    setup, ignored = controls_from_query(urllib.parse.urlsplit(page.url).query)
    assert not ignored, ignored
    run = simulate(scene_from_controls(setup))
    drawn = ghosts(page)
    assert [g["name"] for g in drawn] == run.labels
    for i, g in enumerate(drawn):
        np.testing.assert_allclose(g["x"], run.path[i, 0, :, 0].astype(np.float32),
                                   rtol=1e-6, atol=1e-30)


def assert_alpha_is_the_slider(page):
    """The address's α is the slider's (log₁₀ on the track), to the digits it shows."""
    lr = float(query(page).get("lr", "nan"))
    assert math.isclose(math.log10(lr), slider_value(page, "lr"), abs_tol=2e-3), \
        (lr, slider_value(page, "lr"))


def track_requests(page):
    """Counts the run requests that leave the page and the most on their way at once."""
    seen = {"sent": 0, "open": 0, "most": 0}

    def sent(r):
        if IS_RUN in (r.post_data or ""):
            seen["sent"] += 1
            seen["open"] += 1
            seen["most"] = max(seen["most"], seen["open"])

    def done(r):
        if IS_RUN in (r.post_data or ""):
            seen["open"] -= 1
    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    return seen


def throttle(page, latency_ms, kbit_s):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency_ms,
        "downloadThroughput": kbit_s * 1000 / 8, "uploadThroughput": kbit_s * 1000 / 8})
    return cdp


def drag_across(page, slider_id, moves=24, pause_ms=90, touch=None):
    """Press α's thumb and move it from there to the track's far left in ``moves`` steps,
    ``pause_ms`` apart (mouse, or a finger through ``touch``, a CDP session); returns the
    runs drawn before the release."""
    thumb = page.locator(f"#{slider_id} [role=slider]").bounding_box()
    track = page.locator(f"#{slider_id} .dash-slider-track").bounding_box()
    x0, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
    x1 = track["x"] + 2
    page.evaluate(COUNT_DRAWS)

    def finger(kind, x):
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    if touch:
        finger("touchStart", x0)
    else:
        page.mouse.move(x0, y)
        page.mouse.down()
    for i in range(1, moves + 1):
        x = x0 + (x1 - x0) * i / moves
        finger("touchMove", x) if touch else page.mouse.move(x, y)
        page.wait_for_timeout(pause_ms)
    before_release = page.evaluate("window.__draws")
    finger("touchEnd", x1) if touch else page.mouse.up()
    return before_release


def test_dragging_alpha_with_the_mouse_redraws_while_it_moves_and_ends_on_the_release(page):
    lr0 = slider_value(page, "lr")
    draws = drag_across(page, "lr")
    assert draws >= 3, f"only {draws} runs drawn while α moved"
    wait_settled(page)
    assert slider_value(page, "lr") < lr0 - 1          # (the track's left: α ≤ 1e-4)
    assert_alpha_is_the_slider(page)
    assert_drawn_is_the_address(page)
    # the legend, the results table and the side plots show that run too
    summary = page.locator("#run-summary").inner_text()
    page.wait_for_function("(lr) => +document.getElementById('lr-box').value === lr",
                           arg=float(query(page)["lr"]))
    assert summary and page.console_errors == []


def test_on_a_phone_a_touch_drag_follows_too(phone):
    touch = phone.context.new_cdp_session(phone)
    phone.locator("#lr").scroll_into_view_if_needed()
    lr0 = slider_value(phone, "lr")
    draws = drag_across(phone, "lr", touch=touch)
    assert draws >= 3, f"only {draws} runs drawn while a finger moved α"
    wait_settled(phone)
    assert slider_value(phone, "lr") < lr0 - 1
    assert_alpha_is_the_slider(phone)
    assert_drawn_is_the_address(phone)
    assert phone.console_errors == []


def test_no_second_run_request_leaves_while_one_is_on_its_way(page):
    """A held arrow key on a slow link (200 ms each way): twenty values, never two run
    requests in flight, the values in between skipped, and the last one drawn."""
    seen = track_requests(page)
    throttle(page, 200, 2000)
    thumb = page.locator("#lr [role=slider]")
    thumb.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(40)
    wait_settled(page, timeout=60000)
    assert seen["most"] == 1, seen
    assert 2 <= seen["sent"] < 20, seen                # the newest value wins, no queue
    assert_alpha_is_the_slider(page)
    assert_drawn_is_the_address(page)


def test_a_slider_moved_asks_for_its_run_once_and_a_link_setting_it_does_not(page):
    """α, μ and σ moved by a key: one run request each, the page's own (the run Dash would
    ask for, with the slider's new value among its states: Dash's pass over the page is
    not on a moving slider's way); a link that sets α (Back) is Dash's one request, not a
    second one of the page's."""
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data)
            if IS_RUN in (r.post_data or "") else None)
    for slider in ("lr", "beta1", "noise"):
        before, value = len(bodies), slider_value(page, slider)
        page.locator(f"#{slider} [role=slider]").focus()
        page.keyboard.press("ArrowRight")
        wait_settled(page)
        page.wait_for_timeout(300)
        assert len(bodies) == before + 1, (slider, bodies[before:])
        body = json.loads(bodies[-1])
        assert body["changedPropIds"] == [f"{slider}.value"]
        sent = next(s["value"] for s in body["state"] if s["id"] == slider)
        assert sent == slider_value(page, slider) > value
        assert_drawn_is_the_address(page)
    page.wait_for_timeout(1200)                        # (the address: once a second)
    before, shown = len(bodies), page.evaluate("location.search")
    page.go_back()
    page.wait_for_function("(q) => location.search !== q", arg=shown)
    wait_settled(page)
    page.wait_for_timeout(500)
    assert len(bodies) == before + 1, bodies[before:]
    assert json.loads(bodies[-1])["changedPropIds"] == ["applied.data"]
    assert_drawn_is_the_address(page)
    assert page.console_errors == []


def test_on_a_3g_network_a_drag_ends_on_the_final_value(phone):
    """Chrome's "3G" (300 ms, 750 kbit/s; a default run's answer is tens of kB)."""
    throttle(phone, 300, 750)
    touch = phone.context.new_cdp_session(phone)
    phone.locator("#lr").scroll_into_view_if_needed()
    drag_across(phone, "lr", moves=16, pause_ms=60, touch=touch)
    wait_settled(phone, timeout=90000)
    assert_alpha_is_the_slider(phone)
    assert_drawn_is_the_address(phone)


def frame_text(page):
    return page.locator("#frame-text").inner_text()


@pytest.mark.parametrize("control", ["inspect", "check"])
def test_a_display_control_ticked_while_paused_keeps_the_frame(page, control):
    """(Ticking "inspect state" or "gradient check" jumped from step 105 to the last.)"""
    page.locator("#play").click()
    page.wait_for_function("() => window.__optvizPlayer.k > 40")
    page.locator("#play").click()                        # pause
    paused = frame_text(page)
    k = page.evaluate("window.__optvizPlayer.k")
    assert 0 < k < 300
    helpers(page)
    before = page.evaluate("window.__optvizDrawn")
    page.locator(f"#{control} input").check()
    page.wait_for_function("(b) => window.__optvizDrawn !== b", arg=before)
    wait_settled(page)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__optvizPlayer.k") == k
    assert page.evaluate("window.__optvizPlayer.playing") is False
    assert frame_text(page) == paused
    if control == "inspect":
        assert page.locator("#inspector").inner_text().strip()
    assert page.console_errors == []


def test_a_number_box_commits_on_enter_and_keeps_the_focus(page):
    box = page.locator("#beta1 input[type=number]")
    box.fill("0.3")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('mu') === '0.3'")
    wait_settled(page)
    assert slider_value(page, "beta1") == 0.3
    assert page.evaluate("document.activeElement.closest('#beta1') !== null")
    assert_drawn_is_the_address(page)


def test_alpha_has_a_number_box_and_its_ticks_give_exactly_their_value(page):
    box = page.locator("#lr-box")
    box.fill("0.1")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') === '0.1'")
    assert slider_value(page, "lr") == -1
    box.fill("50")                                       # out of range: said, not sent
    box.press("Enter")
    page.wait_for_function("() => document.getElementById('lr-err').innerText !== ''")
    assert "α" in page.locator("#lr-err").inner_text()
    assert "10" in page.locator("#lr-err").inner_text()
    assert query(page)["lr"] == "0.1"
    box.fill("0.002")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') === '0.002'")
    assert page.locator("#lr-err").inner_text() == ""
    # a click on the "0.1" tick: exactly 0.1 (it gave 0.0891, the track's nearest step)
    mark = page.locator("#lr .dash-slider-mark", has_text="0.1").first.bounding_box()
    page.mouse.click(mark["x"] + mark["width"] / 2, mark["y"] + mark["height"] / 2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') === '0.1'")
    assert slider_value(page, "lr") == -1
    page.wait_for_function("() => document.getElementById('lr-box').value === '0.1'")
    wait_settled(page)
    assert_drawn_is_the_address(page)
    assert page.console_errors == []


CLIPPED = """() => { const legend = document.getElementById('legend').getBoundingClientRect();
  return Array.from(document.querySelectorAll('#legend .legend-row')).filter(r =>
    r.scrollWidth > r.clientWidth + 1 || Array.from(r.querySelectorAll('*')).some(c =>
      c.scrollWidth > c.clientWidth + 1 ||
      c.getBoundingClientRect().right > legend.right + 1 ||
      c.getBoundingClientRect().right > window.innerWidth))
    .map(r => r.innerText); }"""

OVERLAPPING = """() => { const rows = Array.from(document.querySelectorAll('#legend .legend-row'));
  const bad = [];
  rows.forEach(r => { const parts = Array.from(r.children).map(c => c.getBoundingClientRect())
      .filter(b => b.width > 0);
    for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
      const a = parts[i], b = parts[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
          b.top < a.bottom - 1) bad.push(r.innerText); } });
  return bad; }"""


@pytest.mark.parametrize("link, size, must_read", [
    ("scenario=second-order", "desk", "L-BFGS + line search"),
    ("scenario=all-optimizers", "desk", "Adafactor"),
    ("scenario=all-optimizers", "phone", "Adafactor"),
    ("lr=1", "phone", "diverged at step"),
    ("lr=1", "desk", "diverged at step")])
def test_the_legend_shows_every_row_whole(browser, server_url, link, size, must_read):
    """(It clipped "Momentum diverged at s…" and "L-BFGS + line search L = 1…", and on a
    phone the losses ran into the next column.)"""
    phone = size == "phone"
    page = _open(browser, f"{server_url}/?{link}", *((390, 844) if phone else (1280, 720)),
                 **({"is_mobile": True, "has_touch": True} if phone else {}))
    try:
        wait_settled(page)
        page.wait_for_timeout(400)                     # (the legend places itself)
        assert page.evaluate(CLIPPED) == []
        assert page.evaluate(OVERLAPPING) == []
        text = page.locator("#legend").inner_text()
        assert must_read in text and "…" not in text
        assert page.console_errors == []
    finally:
        page.close()


def test_a_link_refused_for_its_cost_shows_its_surface_and_the_downloads_refuse_it(
        browser, server_url):
    """(It showed empty axes under the previous surface's lesson, and every download
    then gave the default run.)"""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server_url}/?scenario=all-optimizers&steps=5000")
    try:
        page.wait_for_function("() => (document.getElementById('status') || {}).innerText",
                               timeout=60000)
        err = page.locator("#status").inner_text()
        assert "steps" in err and "at most" in err, err
        # the link's surface (its lesson, its name in the picker), not the default's
        assert page.locator("#teaches").inner_text() == SURFACES["rosenbrock"].teaches
        assert "Rosenbrock" in page.locator("#surface").inner_text()
        page.wait_for_function("""() => {
            const d = document.querySelector('#graph-bg .js-plotly-plot');
            return !!d && !!d._fullData && d._fullData.some(t =>
              t.type === 'contour' && t.z && t.z.length > 50); }""")     # Rosenbrock's
        assert ghosts(page) == []                      # no paths: nothing was run
        assert query(page).get("steps") == "5000"      # the link is the one refused
        page.locator("#dl-csv").click()
        page.wait_for_function("() => document.getElementById('link-note').innerText"
                               ".startsWith('not downloaded')")
        assert "steps" in page.locator("#link-note").inner_text()
        assert errors == []
    finally:
        page.close()


def test_alpha_speaks_its_value_and_a_rows_checkbox_its_optimizer(page):
    thumb = page.locator("#lr [role=slider]")
    # (the accessibility mender names it once the page is quiet, 50 ms after a change)
    # (the thumb is drawn anew by dcc as the page settles: absent for a moment)
    thumb_text = "(document.querySelector('#lr [role=slider]') || {getAttribute: () => null})" \
        ".getAttribute('aria-valuetext')"
    page.wait_for_function(f"() => ({thumb_text} || '').startsWith('α = ')")
    assert thumb.get_attribute("aria-valuetext").startswith("α = ")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ![null, 'α = 0.03'].includes({thumb_text})")
    wait_settled(page)
    text = thumb.get_attribute("aria-valuetext")
    assert text == f"α = {query(page)['lr']}", text
    # an optimizer row's checkbox is named by its optimizer, with no group named by a
    # component id (it was '{"row":"gd","type":"row-on"}') around it
    assert page.get_by_role("checkbox", name="GD", exact=True).count() == 1
    groups = page.evaluate("() => Array.from(document.querySelectorAll('[role=group], "
                           "[role=radiogroup]')).map(e => e.getAttribute('aria-label') || '')")
    assert not any("{" in n or n == "" for n in groups), groups
    assert "view" in groups


def test_the_keyboard_sets_the_start_on_the_plot(page):
    before = page.evaluate("window.__optvizDrawn.start")
    area = page.locator(".plot-area")
    assert area.get_attribute("aria-label")
    area.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function("(b) => window.__optvizDrawn.start[0] > b[0] && "
                           "window.__optvizDrawn.start[1] > b[1]", arg=before)
    wait_settled(page)
    assert "start" in query(page)
    assert_drawn_is_the_address(page)


def test_few_tab_stops_lie_between_the_play_bar_and_the_plots_tools(page):
    """(About 37 did: every setting came first.)"""
    page.locator("#speed [role=slider], #speed").first.focus()
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || "
                                   "document.activeElement.closest('[id]').id"))
        if stops[-1] == "live":
            break
    assert stops[-1] == "live" and len(stops) <= 3, stops


#: every point a 2-D canvas is asked to draw a line through, and the canvases' widest
RECORD_LINES = """() => { window.__lines = {most: 0, count: 0, width: 0};
  const P = CanvasRenderingContext2D.prototype;
  for (const name of ['moveTo', 'lineTo']) { const f = P[name];
    P[name] = function (x, y) { const l = window.__lines; l.count++;
      l.most = Math.max(l.most, Math.abs(x), Math.abs(y));
      l.width = Math.max(l.width, this.canvas.width, this.canvas.height);
      return f.apply(this, arguments); }; } }"""


def test_a_diverging_path_is_drawn_only_where_it_crosses_the_plot(browser, server_url):
    """Nesterov at α = 0.00146 on Rosenbrock leaves the plot for 32,000 units (7 million
    pixels): stroked whole it took Chromium 0.7 s, on every page following a class."""
    link = "surface=rosenbrock&lr=0.00146"
    setup, _ = controls_from_query(link)
    run = simulate(scene_from_controls(setup))
    assert np.abs(run.path[run.labels.index("Nesterov")]).max() > 1e4   # (the premise)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.add_init_script(f"({RECORD_LINES})()")
        page.goto(f"{server_url}/?{link}")
        page.wait_for_function("() => window.__optvizDrawn && "
                               "window.__optvizDrawn.rows.length === 6", timeout=60000)
        wait_settled(page)
        lines = page.evaluate("window.__lines")
        assert lines["count"] > 1000                  # the paths were drawn
        assert lines["most"] < lines["width"] + 50, lines
        legend = page.locator("#legend").inner_text()
        assert "Nesterov" in legend and "diverged at step" in legend
    finally:
        page.close()


#: the most steps any trace of a side plot shows, as Plotly holds it (x is the step: implicit)
SIDE_LAST_STEP = """(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
  if (!gd || !gd.data || !gd.data.length) return null;
  const dec = window.optvizUtil.decode;
  return Math.max(...gd.data.map(t => dec(t.y).length - 1)); }"""


def test_a_side_plot_out_of_view_is_drawn_when_it_scrolls_into_view(page):
    """(Three Plotly redraws a run, of plots under the fold, were a third of what a new
    run cost each page following a class.)"""
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("#loss-plot").bounding_box()["y"] > 720 - 0.25 * page.locator(
        "#loss-plot").bounding_box()["height"]                    # (the premise)
    box = page.locator("#steps input, input#steps").first
    box.fill("150")
    box.press("Enter")
    page.wait_for_function("() => window.__optvizDrawn.steps === 150")
    wait_settled(page)
    page.wait_for_timeout(500)                       # (the side plots' turn has come)
    waiting = page.evaluate("Object.keys(window.__optvizSide.pending)")
    assert "loss-plot" in waiting, waiting
    assert page.evaluate(SIDE_LAST_STEP, "loss-plot") != 150
    page.locator("#loss-plot").scroll_into_view_if_needed()
    page.wait_for_function(f"(id) => ({SIDE_LAST_STEP})(id) === 150", arg="loss-plot")
    page.wait_for_function("() => !window.__optvizSide.pending['loss-plot']")
    assert page.console_errors == []


def pick_surface(page, option, value):
    """Choose ``option`` in the surface menu and wait for its run (``value`` in the
    address)."""
    page.locator("#surface").click()
    page.get_by_role("option", name=option).click()
    page.wait_for_function("(v) => new URLSearchParams(location.search).get('surface') "
                           "=== v", arg=value)
    wait_settled(page)


def test_a_networks_slice_is_a_surface_of_the_page_by_link_and_by_menu(browser, server_url):
    """A link naming a network's exact slice draws its paths on its contour, the menu
    shows it by name, and the menu's own network slice is one choice away."""
    name = "net:data=moons;n=120;hidden=6"
    page = _open(browser, f"{server_url}/?surface={name}&rows=gd,adam&steps=80", 1280, 720)
    wait_settled(page)
    assert [g["name"] for g in ghosts(page)] == ["GD", "Adam"]
    assert_drawn_is_the_address(page)
    assert "moons" in page.locator("#surface").inner_text()
    assert page.locator("#teaches").inner_text().startswith("The exact loss of a real network")
    pick_surface(page, "a real network's loss", "net:")
    assert_drawn_is_the_address(page)
    assert page.console_errors == []
    page.close()


def assert_drawn_is_the_training(page):
    """The paths on the screen are the training the address describes, projected on its
    plane (web/network_view.py), to float32 as sent."""
    from optviz.web.callbacks import compute
    setup, ignored = controls_from_query(urllib.parse.urlsplit(page.url).query)
    assert not ignored, ignored
    meta = compute(setup)[3]
    drawn = ghosts(page)
    assert [g["name"] for g in drawn] == [r["label"] for r in meta["rows"]]
    helpers(page)
    for i, g in enumerate(drawn):
        want = page.evaluate("(v) => __decode(v)", meta["rows"][i]["x"])
        np.testing.assert_allclose(g["x"], want, rtol=1e-6, atol=1e-30)


def test_a_network_trained_on_the_page_follows_its_sliders_and_says_what_it_cannot(
        browser, server_url):
    """A link naming a network's training draws every row's path on the plane of its
    true loss, with the learning curves beside; α moved retrains it; a click on the
    plane, 3-D and a row's own σ are refused saying why; the menu's training is one
    choice away."""
    name = "train:data=moons;n=120;hidden=6"
    page = _open(browser, f"{server_url}/?surface={name}&rows=gd,momentum,adam&steps=80",
                 1280, 720)
    wait_settled(page)
    assert [g["name"] for g in ghosts(page)] == ["GD", "Momentum", "Adam"]
    assert_drawn_is_the_training(page)
    assert "network training" in page.locator("#surface").inner_text()
    assert "parameters" in page.locator("#teaches").inner_text()
    assert page.evaluate("document.querySelector('#graph-bg .js-plotly-plot')"
                         ".layout.xaxis.title.text").startswith("PC1 (")
    # the learning curves, the accuracy and the gradient norms, once in view
    page.locator("#loss-plot").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#loss-plot .js-plotly-plot') && "
                           "document.querySelector('#gnorm-plot .js-plotly-plot')",
                           timeout=30000)
    titles = page.evaluate("['#loss-plot', '#lr-plot', '#gnorm-plot'].map(s => { const g = "
                           "document.querySelector(s + ' .js-plotly-plot'); return g ? "
                           "g.layout.title.text : null; })")
    assert titles[0].startswith("loss: training") and "first" in titles[2], titles
    # each row's decision boundary, at the step on the screen: the last, then the first
    page.locator("#data-box").scroll_into_view_if_needed()
    maps = """() => { const gd = document.querySelector('#data-plot .js-plotly-plot');
      return gd ? gd.data.filter(t => t.type === 'heatmap').map(t => JSON.stringify(t.z))
        : []; }"""
    page.wait_for_function(f"() => ({maps})().length === 3")
    last = page.evaluate(maps)
    page.locator("#restart").click()
    page.wait_for_function(f"(b) => JSON.stringify(({maps})()) !== JSON.stringify(b)",
                           arg=last)
    first = page.evaluate(maps)
    assert all(a != b for a, b in zip(first, last))
    # α moved: the network is trained again, and the address holds it
    page.locator("#graph").scroll_into_view_if_needed()
    before = ghosts(page)
    handle = page.locator("#lr [role=slider]")
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(b) => JSON.stringify(__ghosts()) !== JSON.stringify(b)",
                           arg=before)
    wait_settled(page)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') !== null")
    assert_drawn_is_the_training(page)
    # what a training cannot honour is said, and the picture stays
    drawn = ghosts(page)
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.wait_for_function("() => document.querySelector('#status').innerText"
                           ".includes('initialization')")
    page.locator("#view").get_by_text("3-D").click()
    page.wait_for_function("() => document.querySelector('#status').innerText"
                           ".includes('2-D')")
    assert ghosts(page) == drawn
    page.locator("#view").get_by_text("2-D").click()
    wait_settled(page)
    # the menu's own training, one choice away
    pick_surface(page, "train a network", "train:")
    assert_drawn_is_the_training(page)
    assert page.console_errors == []
    page.close()


def test_a_networks_panel_edits_its_name_and_says_what_is_wrong_beside_it(browser, server_url):
    """The network panel shows a training's keys, and a key changed there is a new
    training: in the surface menu, in the address, drawn (α as the student set it); a
    value out of range is said under the panel naming the key, the picture and the text
    typed staying; Back restores the panel; another surface hides it."""
    page = _open(browser, f"{server_url}/?surface=train:n=120;hidden=6&rows=gd,adam&steps=60"
                          "&lr=0.05", 1280, 720)
    wait_settled(page)
    assert page.locator("#net-box").is_visible()
    # folded beside the surface menu, naming the network (opened, it lies over the page)
    assert page.locator("#net-summary").inner_text() == "xor · 6 · tanh"
    assert page.locator("#net-hidden").is_hidden()
    # what the page says of a start and of σ is a training's
    assert page.get_by_text("A network starts from its initialization").is_visible()
    assert not page.get_by_text("Click the plot to start").is_visible()
    page.locator("#net-box summary").click()
    assert page.locator("#net-hidden").input_value() == "6"
    assert page.locator("#net-n").input_value() == "120"
    assert "xor" in page.locator("#net-data").inner_text()

    def address_surface():
        return page.evaluate("new URLSearchParams(location.search).get('surface')")

    hidden = page.locator("#net-hidden")
    hidden.fill("4-4")
    hidden.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('surface')"
                           " === 'train:n=120;hidden=4-4'")
    wait_settled(page)
    assert_drawn_is_the_training(page)
    assert "2-4-4-1" in page.locator("#teaches").inner_text()
    assert page.locator("#lr-box").input_value() == "0.05"
    assert "hidden=4-4" in page.locator("#surface").inner_text()
    page.locator("#net-data").click()
    page.get_by_role("option", name="circles", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('surface')"
                           " === 'train:data=circles;n=120;hidden=4-4'")
    wait_settled(page)
    assert_drawn_is_the_training(page)
    # a key back at its default leaves the name
    samples = page.locator("#net-n")
    samples.fill("200")
    samples.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('surface')"
                           " === 'train:data=circles;hidden=4-4'")
    wait_settled(page)
    # out of range: said beside the panel, naming the key and the range; nothing lost
    drawn = ghosts(page)
    samples.fill("5")
    samples.press("Enter")
    page.wait_for_function("() => document.querySelector('#net-err').innerText"
                           ".includes('n: 5; allowed 8 to 1000')")
    assert ghosts(page) == drawn and samples.input_value() == "5"
    page.wait_for_timeout(1100)          # (runs within a second share a history entry)
    samples.fill("150")
    samples.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('surface')"
                           " === 'train:data=circles;n=150;hidden=4-4'")
    wait_settled(page)
    assert page.locator("#net-err").inner_text() == ""
    # Back: the setup before, its keys in the panel
    page.go_back()
    page.wait_for_function("() => document.querySelector('#net-n').value === '200'")
    assert address_surface() == "train:data=circles;hidden=4-4"
    # another surface: the panel goes
    pick_surface(page, "Rosenbrock", "rosenbrock")
    assert page.locator("#net-box").is_hidden()
    assert page.get_by_text("Click the plot to start").is_visible()
    assert not page.get_by_text("A network starts from its initialization").is_visible()
    assert page.console_errors == []
    page.close()


def test_a_number_typed_back_to_its_first_value_is_run(browser, server_url):
    """A box a link has set takes its first value again when typed (dcc's Input compared
    a commit with its own last one: after ?steps=60, typing 300 did nothing)."""
    page = _open(browser, f"{server_url}/?steps=60&rows=gd", 1280, 720)
    wait_settled(page)
    helpers(page)
    assert len(ghosts(page)[0]["x"]) == 61
    steps = page.locator("#steps")
    steps.fill("300")
    steps.press("Enter")
    page.wait_for_function("() => __ghosts().length && __ghosts()[0].x.length === 301")
    assert page.evaluate("new URLSearchParams(location.search).get('steps')") is None
    # ... and by leaving the box, as well as by Enter
    assert page.console_errors == []
    page.close()
    page = _open(browser, f"{server_url}/?steps=60&rows=gd", 1280, 720)
    wait_settled(page)
    assert len(ghosts(page)[0]["x"]) == 61
    page.locator("#steps").fill("300")
    page.locator("#seed").focus()
    page.wait_for_function("() => __ghosts().length && __ghosts()[0].x.length === 301")
    assert page.console_errors == []
    page.close()


def test_a_networks_training_downloads_its_curves_as_csv_and_json(browser, server_url):
    """CSV and JSON hold what the page draws of a training: each row's path on the plane
    (the paths drawn), its learning curves and gradient norms, step by step; Python is a
    script that trains it again (tests/test_network_exports.py runs one); HTML says what
    it takes instead of downloading something else."""
    page = _open(browser, f"{server_url}/?surface=train:n=120;hidden=6&rows=gd,adam&steps=50",
                 1280, 720)
    wait_settled(page)
    shown = ghosts(page)
    with page.expect_download() as dl:
        page.locator("#dl-csv").click()
    assert dl.value.suggested_filename == "optviz-train-xor-gd-adam-50-steps.csv"
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path()).read())))
    assert len(rows) == 2 * 51
    assert {"a", "b", "distance", "train_loss", "test_loss", "test_acc", "grad_norm_1",
            "grad_norm_2"} <= set(rows[0]) and "grad_norm_3" not in rows[0]   # two layers
    adam = [r for r in rows if r["optimizer"] == "adam"]
    np.testing.assert_allclose([float(r["a"]) for r in adam], shown[1]["x"], rtol=1e-5,
                               atol=1e-6)
    assert float(adam[-1]["train_loss"]) < float(adam[0]["train_loss"])
    assert adam[-1]["grad_norm_1"] == "" and float(adam[0]["grad_norm_1"]) > 0
    # the mouse over a path names its point: row, step, loss, distance from the plane
    point = page.evaluate("""(xy) => { const gd = __gd(), r = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [r.left + xa._offset + xa.c2p(xy[0]), r.top + ya._offset + ya.c2p(xy[1])]; }""",
                          [shown[1]["x"][20], shown[1]["y"][20]])
    page.mouse.move(*point)
    page.wait_for_function("() => { const t = document.querySelector('.path-tip'); "
                           "return t && !t.hidden; }")
    tip = page.locator(".path-tip").inner_text()
    near = [k for k in range(51) if abs(float(adam[k]["a"]) - shown[1]["x"][20]) < 1e-3 and
            abs(float(adam[k]["b"]) - shown[1]["y"][20]) < 1e-3]
    assert tip.startswith("Adam · step ") and int(tip.split()[3]) in near
    k = int(tip.split()[3])
    assert tip.endswith(f"{float(adam[k]['distance']):.3g} off the plane"), tip
    page.mouse.move(1, 1)
    with page.expect_download() as dl:
        page.locator("#dl-json").click()
    data = json.load(open(dl.value.path()))
    assert data["surface"] == "train:n=120;hidden=6"
    assert data["network"]["widths"] == [2, 6, 1] and data["plane"]["kind"] == "pca"
    assert [r["label"] for r in data["rows"]] == ["GD", "Adam"]
    assert len(data["rows"][0]["test_loss"]) == 51 and len(data["rows"][0]["grad_norm"]) == 50
    assert abs(data["rows"][0]["b"][20] - shown[0]["y"][20]) < 1e-5
    with page.expect_download() as dl:
        page.locator("#dl-py").click()
    assert dl.value.suggested_filename == "optviz-train-xor-gd-adam-50-steps.py"
    script = open(dl.value.path()).read()
    assert "make_dataset('xor', n=120" in script and "def with_torch" in script
    page.locator("#dl-html").click()
    page.wait_for_function("() => document.querySelector('#link-note').innerText"
                           ".includes('HTML takes a surface')")
    assert page.console_errors == []
    page.close()
