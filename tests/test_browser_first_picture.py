"""The first picture (web/first_picture.py): the index page carries the page as plain
HTML and draws its plot before any of Dash's scripts runs; the real page then takes its
place without a frame showing the plot empty. In real Chromium against the real server."""
import base64
import hashlib
import json
import re
import urllib.request

import pytest

from tests.conftest import _open, api_call

DASH_SCRIPTS = "**/_dash-component-suites/**"

#: counts, for each colour, the canvas' pixels within a small distance of it
COUNT_COLOURS = """colours => {
  const c = document.querySelector('canvas.first-picture');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const rgb = colours.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
  const n = rgb.map(() => 0);
  const near = (p, c) => Math.abs(d[p] - c[0]) + Math.abs(d[p + 1] - c[1]) +
                         Math.abs(d[p + 2] - c[2]) < 30;
  for (let p = 0; p < d.length; p += 4) rgb.forEach((c, k) => { if (near(p, c)) n[k]++; });
  return n;
}"""


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode(), r.headers


def _box(page, selector):
    # (in the document: a page scrolled a little by a focus is the same layout)
    return page.evaluate("s => { const r = document.querySelector(s).getBoundingClientRect();"
                         " return [r.x + scrollX, r.y + scrollY, r.width, r.height]; }",
                         selector)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_plot_is_drawn_from_the_index_page_before_any_of_dashs_scripts(
        browser, server_url, device):
    size = {"desktop": dict(viewport={"width": 1280, "height": 720}),
            "phone": dict(viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=3)}[device]
    bare = browser.new_page(**size)
    try:
        bare.route(DASH_SCRIPTS, lambda route: route.abort())   # React never comes
        bare.goto(server_url)
        bare.wait_for_function("() => window.__optvizFirstAt > 0", timeout=30000)
        assert bare.evaluate("typeof window.DashRenderer") == "undefined"
        assert bare.locator(".skeleton .plot-area canvas.first-picture").count() == 1
        rows = bare.locator(".first-legend .legend-row").all_inner_texts()
        colours = bare.evaluate("JSON.parse(document.getElementById('first-picture-data')"
                                ".textContent).rows.map(r => r.color)")
        seen = bare.evaluate(COUNT_COLOURS, colours)
        skeleton_plot = _box(bare, ".skeleton .plot-area")
    finally:
        bare.close()
    real = _open(browser, server_url, size["viewport"]["width"], size["viewport"]["height"],
                 **{k: v for k, v in size.items() if k != "viewport"})
    try:
        # the picture's legend is the page's, row by row, and each path shows in its colour
        assert rows == real.locator("#legend .legend-row").all_inner_texts()
        assert len(rows) == 6 and all(n > 40 for n in seen), seen   # (AdaGrad: a short path)
        # where the page's plot will be, to the pixel
        assert skeleton_plot == pytest.approx(_box(real, "#react-entry-point .plot-area"),
                                              abs=1), real.evaluate(
            "[scrollY, document.getElementById('teaches').textContent.slice(0, 40)]")
        assert real.locator("canvas.first-picture, .first-legend, .skeleton").count() == 0
        assert real.console_errors == []
    finally:
        real.close()


#: every frame until the page draws its own paths: once React's plot box is there, the
#: first picture must be in it (a frame without it would show the plot empty)
WATCH = """window.__emptyFrames = 0; window.__handedOver = 0;
(function frame() {
  const graph = document.getElementById('graph');
  if (graph && !window.__optvizDrawn) {
    const area = graph.closest('.plot-area');
    if (area && area.querySelector('canvas.first-picture')) window.__handedOver++;
    else window.__emptyFrames++;
  }
  if (!window.__optvizDrawn) requestAnimationFrame(frame);
})();"""

#: what Plotly drew: the plot area, the tick labels and the contour's levels
PLOTLY = """() => {
  const gd = document.querySelector('#graph-bg .js-plotly-plot'), fl = gd._fullLayout;
  const texts = s => Array.from(gd.querySelectorAll(s)).map(t => t.textContent);
  const c = gd._fullData[0].contours;
  return {plot: [fl.xaxis._offset, fl.yaxis._offset, fl.xaxis._length, fl.yaxis._length],
          xticks: texts('.xtick text'), yticks: texts('.ytick text'),
          levels: [c.start, c.size, Math.round((c.end - c.start) / c.size) + 1]};
}"""


@pytest.mark.parametrize("query", ["", "?surface=bowl", "?surface=rosenbrock",
                                   "?surface=data_linear", "?surface=net:",
                                   "?surface=train:",
                                   "?surface=formula&f=x**2%2B3*y**2&fv=-1.5,1.5,-0.3,0.3"])
def test_the_first_picture_is_plotlys_plot_and_gives_way_without_an_empty_frame(
        browser, server_url, query):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.add_init_script(WATCH)
        page.goto(server_url + query)
        page.wait_for_function("() => window.__optvizDrawn && document.querySelector("
                               "'#graph-bg .js-plotly-plot') && document.querySelector("
                               "'#graph-bg .js-plotly-plot')._fullData", timeout=60000)
        first = page.evaluate("window.__optvizFirstPicture")
        plotly = page.evaluate(PLOTLY)
        assert page.evaluate("window.__emptyFrames") == 0
        assert page.evaluate("window.__handedOver") > 0
        assert page.locator("canvas.first-picture, .first-legend").count() == 0
        # drawn as Plotly draws it: the plot's box, the ticks, the contour's levels
        assert first["plot"] == pytest.approx(plotly["plot"], abs=0.5)
        assert first["xticks"] == plotly["xticks"] and first["yticks"] == plotly["yticks"]
        assert first["levels"][2] == plotly["levels"][2]
        assert first["levels"][:2] == pytest.approx(plotly["levels"][:2], rel=1e-9)
        # and its legend where the page puts its own (the corner that hides least, or
        # beside a square plot)
        legend = page.evaluate("(() => { const l = document.getElementById('legend'); "
                               "return [l.offsetLeft, l.offsetTop, l.offsetWidth, "
                               "l.offsetHeight]; })()")
        assert first["legend"] == pytest.approx(legend, abs=2)
    finally:
        page.close()


def test_only_a_picture_the_page_would_draw_is_in_the_index(server_url):
    default, headers = _get(server_url + "/")
    assert 'id="first-picture-data"' in default
    # refused for its cost, a 3-D view: the page says or draws those itself
    for query in ("?scenario=all-optimizers&steps=5000", "?view=3d"):
        html, _ = _get(server_url + "/" + query)
        assert 'id="first-picture-data"' not in html and 'class="skeleton"' in html, query
    # a formula's text never leaves its string
    html, _ = _get(server_url + "/?surface=formula&f=%3C/script%3E%3Cscript%3Ealert(1)"
                                "%3C/script%3E")
    assert "<script>alert(1)" not in html
    # the script that draws it runs under the page's policy: its hash is allowed
    script, = [s for s in re.findall(r"<script>(.*?)</script>", default, re.S)
               if "optvizFirst" in s]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in headers["Content-Security-Policy"]
    # the skeleton names no id of the page's (React's page brings those)
    skeleton = default.split('class="skeleton"', 1)[1].split("</main>", 1)[0]
    assert " id=" not in skeleton


def _picture_view(html):
    found = re.search(r'id="first-picture-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))["view"] if found else None


def test_a_student_joining_a_class_sees_its_setup_first_or_no_picture(server_url):
    """At /c/CODE (no link of its own) the picture is the class's setup where the worker
    holds the class, else none: never the default scene, then the class's."""
    status, made, _ = api_call(server_url + "/api/classes", "POST",
                               {"state": "surface=bowl&steps=50"})
    assert status == 201
    code, views = made["code"], []
    for _ in range(20):                  # (two workers: each holds the class once polled)
        assert api_call(f"{server_url}/api/classes/{code}")[0] == 200
        views.append(_picture_view(_get(f"{server_url}/c/{code}")[0]))
        if views[-1] is not None:
            break
    assert views[-1] == [-4.0, 4.0, -4.0, 4.0]            # the bowl's box, the class's
    assert all(v in (None, [-4.0, 4.0, -4.0, 4.0]) for v in views)
    # an unknown code: the page, no picture, and no database read for it
    html, _ = _get(f"{server_url}/c/ZZZZZZ")
    assert 'class="skeleton"' in html and _picture_view(html) is None
