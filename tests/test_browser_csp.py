"""The page under its Content-Security-Policy (script-src 'self' plus the hashes of Dash's
inline scripts): every part of it works in Chromium with no violation reported."""
import urllib.request

RECORD = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_the_policy_limits_scripts_to_the_server(server_url):
    with urllib.request.urlopen(server_url + "/") as r:
        policy = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"].startswith("'self'")
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in directives["script-src"]
    assert directives["object-src"] == "'none'"


def test_every_part_of_the_page_works_without_a_violation(browser, server_url):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD)
    try:
        page.goto(server_url)
        page.wait_for_function("() => document.querySelectorAll('#legend .legend-row')"
                               ".length > 0", timeout=60000)
        # the update rules are typeset by MathJax
        page.locator("#equations").scroll_into_view_if_needed()   # typeset in view
        page.wait_for_function("() => document.querySelector('#equations mjx-container')",
                               timeout=30000)
        # the 3-D view (WebGL)
        page.get_by_label("3-D").check()
        page.wait_for_function("() => document.querySelector('#graph .js-plotly-plot')"
                               ".data[0].type === 'surface'", timeout=30000)
        page.get_by_label("2-D").check()
        # a background job: Explore's basin map
        page.locator("details.explore summary").click()
        page.locator("#ex-run").click()
        page.wait_for_function("() => { const g = document.querySelector('#ex-graph "
                               ".js-plotly-plot'); return g && g.data.length > 1; }",
                               timeout=60000)
        assert page.evaluate("window.__violations") == []
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert errors == []
    finally:
        page.close()


def _basin_map(page):
    page.locator("#ex-run").click()
    page.wait_for_function("() => { const g = document.querySelector('#ex-graph "
                           ".js-plotly-plot'); return g && g.data.length > 1 && "
                           "document.getElementById('ex-status').innerText.includes('s'); }",
                           timeout=60000)
    return page.locator("#ex-status").inner_text()


def test_a_lost_job_cache_directory_is_made_again_and_the_next_job_works(
        browser, server_proc):
    import json
    import shutil
    shutil.rmtree(server_proc.cache)
    # /healthz reports the backend (and makes the directory again on its own)
    health = json.loads(urllib.request.urlopen(server_proc.url + "/healthz").read())
    assert health["jobs"] == {"backend": "diskcache", "ok": True}
    shutil.rmtree(server_proc.cache)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(server_proc.url + "/?steps=120")
        page.wait_for_function("() => document.querySelectorAll('#legend .legend-row')"
                               ".length > 0", timeout=60000)
        page.locator("details.explore summary").click()
        status = _basin_map(page)
        assert "basin map" in status, status
    finally:
        page.close()
