"""Class mode in real Chromium against the real gunicorn: an instructor's projector and
three students' pages in one browser (separate profiles, as separate laptops)."""
import csv
import io

from .conftest import ROOT, _open


def _follows(page, text, timeout=5000):
    page.wait_for_function("(t) => window.location.search.includes(t)", arg=text,
                           timeout=timeout)


def test_an_instructor_and_three_students(browser, server_url):
    teacher = _open(browser, f"{server_url}/?surface=rosenbrock", 1280, 720)
    contexts, students = [], []
    try:
        teacher.locator("#class-start").click()
        teacher.locator(".class-code").wait_for()
        code = teacher.evaluate("window.optvizClass.code")
        assert teacher.url.endswith(f"/c/{code}?surface=rosenbrock")
        assert teacher.locator(".class-code").inner_text() == code
        qr = teacher.evaluate("(async () => { const r = await fetch(document.querySelector("
                              "'.class-qr').src); return [r.status, (await r.text()).slice(0, 4)];"
                              " })()")
        assert qr == [200, "<svg"]
        for _ in range(3):                          # three laptops
            ctx = browser.new_context(viewport={"width": 1280, "height": 720})
            contexts.append(ctx)
            page = ctx.new_page()
            page.goto(f"{server_url}/c/{code}")
            students.append(page)
        for page in students:
            _follows(page, "surface=rosenbrock", 30000)
            assert page.locator(".class-bar").inner_text().startswith(f"Class {code}")
            assert page.evaluate("window.optvizClass.role") == "student"
            assert page.evaluate("window.optvizClass.key") is None       # never the key
        # the projector moves: every follower follows (how soon: benchmarks/classroom.py)
        handle = teacher.locator("#lr [role=slider]")
        handle.focus()
        teacher.keyboard.press("ArrowRight")
        teacher.wait_for_function("() => location.search.includes('lr=')")
        lr = teacher.evaluate("new URLSearchParams(location.search).get('lr')")
        for page in students:
            _follows(page, f"lr={lr}", 15000)
        # a student breaks away, the projector moves on, the student stays, then follows
        away = students[0]
        away.locator("#class-away").click()
        teacher.keyboard.press("ArrowRight")
        teacher.wait_for_function("(lr) => !location.search.includes('lr=' + lr)", arg=lr)
        lr2 = teacher.evaluate("new URLSearchParams(location.search).get('lr')")
        _follows(students[1], f"lr={lr2}", 15000)
        assert f"lr={lr}" in away.url
        away.locator("#class-follow").click()
        _follows(away, f"lr={lr2}", 15000)
        # a challenge: every student sees it, tweaks and submits; the leaderboard fills
        teacher.locator("#class-pose").click()
        teacher.locator("#class-close").wait_for()
        for i, page in enumerate(students):
            page.locator("#class-submit").wait_for(timeout=5000)
            if i == 2:                              # one tries a wild step size
                page.locator(".class-bar button").click()
                page.locator("#beta1 [role=slider]").focus()
                page.keyboard.press("End")
                page.wait_for_function("() => location.search.includes('mu=0.999')")
            page.locator("#class-name").fill(["Ada", "Bo", "<b>Cy</b>"][i])
            page.locator("#class-submit").click()
            page.wait_for_function("() => document.getElementById('class-say').textContent"
                                   ".startsWith('submitted')")
        teacher.wait_for_function("() => document.querySelectorAll('.class-board tbody tr')"
                                  ".length === 3", timeout=6000)
        assert "student" in teacher.locator(".class-board").inner_text()   # names hidden
        teacher.locator("#class-names").check()
        teacher.wait_for_function("() => document.querySelector('.class-board').innerText"
                                  ".includes('<b>Cy</b>')")                  # as text
        assert teacher.locator(".class-board b").count() == 0
        assert teacher.locator("#class-picture .scatterlayer .point").count() == 3
        # over the map of the same challenge (final loss over every α and β)
        assert teacher.evaluate("document.getElementById('class-picture').data[0].type") \
            == "heatmap"
        # the README's picture of the projector in class mode
        teacher.evaluate("window.scrollTo(0, 0)")
        teacher.screenshot(path=str(ROOT / "docs" / "class.png"))
        with teacher.expect_download() as got:
            teacher.locator("#class-csv").click()
        rows = list(csv.DictReader(io.StringIO(open(got.value.path()).read())))
        assert sorted(r["name"] for r in rows) == ["<b>Cy</b>", "Ada", "Bo"]
        assert all(r["mu"] for r in rows) and any(r["mu"] == "0.999" for r in rows)
        # the scored row is one that μ moves (Momentum), not GD: the tries differ
        assert len({r["loss"] for r in rows}) >= 2
        # the best tries as rows of the projector's plot, and so of every follower's
        best = sum(1 for r in rows if not r["diverged_at"])
        assert best >= 2
        teacher.locator("#class-best").click()
        teacher.wait_for_function("(n) => window.__optvizDrawn.rows.length === n && "
                                  "window.__optvizDrawn.rows.every(r => r.uid.startsWith("
                                  "'momentum'))", arg=best, timeout=15000)
        _follows(students[1], "momentum~2", 15000)
        # a submission removed from the board
        teacher.locator(".class-remove").first.click()
        teacher.wait_for_function("() => document.querySelectorAll('.class-board tbody tr')"
                                  ".length === 2", timeout=6000)
        assert teacher.console_errors == []
    finally:
        teacher.close()
        for ctx in contexts:
            ctx.close()


def test_a_wrong_class_code_says_so_and_the_page_still_works(browser, server_url):
    page = _open(browser, f"{server_url}/c/ZZZZZZ", 390, 844, is_mobile=True, has_touch=True)
    try:
        page.locator(".class-bar[role=alert]").wait_for(timeout=10000)
        assert "no class with this code" in page.locator(".class-bar").inner_text()
        assert page.evaluate("window.__optvizDrawn.rows.length") == 6   # the page works
    finally:
        page.close()


def test_a_busy_server_s_503_is_sent_again_by_the_page(browser, server_proc):
    """Every scoring slot held (as other workers scoring would hold them): the student's
    try is answered 503 with Retry-After, the page says so and sends it again by itself,
    and it is scored once a slot is free."""
    import fcntl
    import os
    import time

    from .conftest import api_call
    url = server_proc.url
    _, made, _ = api_call(url + "/api/classes", "POST", {"state": "surface=bowl"})
    _, posed, _ = api_call(f"{url}/api/classes/{made['code']}/challenges", "POST",
                           {"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 77},
                           made["key"])
    page = _open(browser, f"{url}/c/{made['code']}", 1280, 720)
    held = []
    try:
        page.locator("#class-submit").wait_for(timeout=15000)
        folder = os.path.join(server_proc.cache, "slots")
        os.makedirs(folder, exist_ok=True)
        for k in range(8):                       # (more than the server's slots)
            fd = os.open(os.path.join(folder, f"score-{k}.lock"), os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
        page.locator("#class-name").fill("Patient")
        page.locator("#class-submit").click()
        page.wait_for_function("() => document.getElementById('class-say').textContent"
                               ".includes('sending again')", timeout=10000)
        assert "busy" in page.locator("#class-say").inner_text()
        time.sleep(1)
        for fd in held:
            os.close(fd)
        held = []
        page.wait_for_function("() => document.getElementById('class-say').textContent"
                               ".startsWith('submitted')", timeout=15000)
        status, res, _ = api_call(f"{url}/api/classes/{made['code']}/challenges/"
                                  f"{posed['id']}/results", key=made["key"])
        assert status == 200 and [t["name"] for t in res["tries"]] == ["Patient"]
    finally:
        for fd in held:
            os.close(fd)
        page.close()
