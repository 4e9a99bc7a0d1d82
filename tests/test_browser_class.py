"""Class mode in real Chromium against the real gunicorn: a projector, a second instructor
device and three students (one on a phone), each in a browser context of its own (as
separate devices). One class state, the projector's layout in every class state at
1280x720 and 1920x1080 (screenshots kept in docs/), students who keep what they type,
timed challenges, the leaderboard, the join address, focus."""
import csv
import io
import os
import random
import signal
import time

import pytest

from .conftest import ROOT, _open, api_call, class_server

DOCS = ROOT / "docs"


def _follows(page, text, timeout=15000):
    page.wait_for_function("(t) => window.location.search.includes(t)", arg=text,
                           timeout=timeout)


def _device(browser, url, width=1280, height=720, **context):
    """A page at ``url`` on a device of its own (its own storage), once drawn."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, **context)
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#graph .js-plotly-plot", timeout=60000)
    page.console_errors = errors
    return ctx, page


def _start_class(browser, server_url, query="surface=rosenbrock", width=1280, height=720):
    teacher = _open(browser, f"{server_url}/?{query}", width, height)
    teacher.locator("#class-start").click()
    teacher.locator("#class-code").wait_for()
    teacher.wait_for_function("() => window.optvizClass.ready")
    return teacher, teacher.evaluate("window.optvizClass.code"), \
        teacher.evaluate("window.optvizClass.key")


def _version(server_url, code):
    return api_call(f"{server_url}/api/classes/{code}")[1]["version"]


def _press(page, selector, key, times=1):
    page.locator(selector).focus()
    for _ in range(times):
        page.keyboard.press(key)


def _pose(teacher, minutes=None):
    """The projector poses the default challenge (α and μ, within 10⁻³, 300 steps)."""
    if teacher.locator("#class-drawer").is_hidden():
        teacher.locator("#class-drawer-toggle").click()
    if not teacher.locator("#class-pose-box").evaluate("d => d.open"):
        teacher.locator("#class-pose-box summary").click()
    if minutes is not None:
        teacher.locator("#class-minutes").fill(str(minutes))
    teacher.locator("#class-pose").click()
    teacher.locator("#class-close").wait_for(timeout=15000)
    return teacher.evaluate("window.optvizClass.data.challenge.id")


def test_one_class_state_for_two_instructor_devices_and_three_students(browser, server_url):
    teacher, code, key = _start_class(browser, server_url)
    contexts = []
    try:
        students = []
        for i in range(3):                          # two laptops and a phone
            phone = i == 2
            ctx, page = _device(browser, f"{server_url}/c/{code}", *(
                (390, 844) if phone else (1280, 720)),
                **(dict(is_mobile=True, has_touch=True) if phone else {}))
            contexts.append(ctx)
            students.append(page)
        for page in students:
            _follows(page, "surface=rosenbrock", 30000)
            assert page.locator(".class-bar").inner_text().startswith(f"Class {code}")
            assert page.evaluate("window.optvizClass.role") == "student"
            assert page.evaluate("window.optvizClass.key") is None       # never the key
        # the second instructor device loads the class's setup and pushes nothing
        before = _version(server_url, code)
        ctx, second = _device(browser, f"{server_url}/c/{code}#key={key}", 1920, 1080)
        contexts.append(ctx)
        _follows(second, "surface=rosenbrock", 30000)
        second.wait_for_function("() => window.optvizClass.ready && "
                                 "window.optvizClass.role === 'teacher'")
        assert "#key" not in second.url                     # (kept, not in the address)
        time.sleep(2)
        assert _version(server_url, code) == before         # nothing pushed on opening
        assert all("surface=rosenbrock" in p.url for p in students)
        # either device moves the class: the other follows, and so does every student
        _press(second, "#lr [role=slider]", "ArrowRight")
        second.wait_for_function("() => location.search.includes('lr=')")
        lr = second.evaluate("new URLSearchParams(location.search).get('lr')")
        for page in [teacher, *students]:
            _follows(page, f"lr={lr}")
        _press(teacher, "#lr [role=slider]", "ArrowRight")
        teacher.wait_for_function("(lr) => !location.search.includes('lr=' + lr)", arg=lr)
        lr2 = teacher.evaluate("new URLSearchParams(location.search).get('lr')")
        for page in [second, *students]:
            _follows(page, f"lr={lr2}")
        # the view: 3-D on the projector is 3-D for everyone, and back
        teacher.locator("#view").get_by_text("3-D").click()
        for page in students:
            _follows(page, "view=3d", 30000)
            page.wait_for_function("() => { const gd = document.querySelector("
                                   "'#graph .js-plotly-plot'); return gd && gd._fullLayout"
                                   " && gd._fullLayout.scene; }", timeout=30000)
        teacher.locator("#view").get_by_text("2-D").click()
        for page in students:
            page.wait_for_function("() => !location.search.includes('view=3d')",
                                   timeout=15000)
        # playback: play, and every follower plays; pause, and every follower shows the
        # projector's frame
        for page in [teacher, *students]:
            page.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn === "
                                   "window.__optvizMeta", timeout=30000)
        teacher.locator("#play").click()
        for page in [second, *students]:
            page.wait_for_function("() => window.__optvizPlayer.playing", timeout=15000)
        time.sleep(1)
        teacher.locator("#play").click()
        teacher.wait_for_function("() => !window.__optvizPlayer.playing")
        frame = teacher.evaluate("document.querySelector('#scrub [role=slider]')"
                                 ".getAttribute('aria-valuenow')")
        for page in [second, *students]:
            page.wait_for_function(
                "(f) => !window.__optvizPlayer.playing && document.querySelector("
                "'#scrub [role=slider]').getAttribute('aria-valuenow') === f",
                arg=frame, timeout=15000)
        # a student who touches a control is on their own, and says so; follows again
        away = students[0]
        _press(away, "#beta1 [role=slider]", "End")
        away.wait_for_function("() => document.getElementById('class-mode').textContent"
                               ".startsWith('on your own')")
        away.wait_for_function("() => location.search.includes('mu=0.999')")
        _press(teacher, "#lr [role=slider]", "ArrowRight")
        teacher.wait_for_function("(lr) => !location.search.includes('lr=' + lr)", arg=lr2)
        lr3 = teacher.evaluate("new URLSearchParams(location.search).get('lr')")
        _follows(students[1], f"lr={lr3}")
        assert "mu=0.999" in away.url and f"lr={lr3}" not in away.url
        away.locator("#class-follow").click()
        _follows(away, f"lr={lr3}")
        assert "mu=0.999" not in away.url
        for page in [teacher, second, *students]:
            assert page.console_errors == [], page.console_errors
    finally:
        teacher.close()
        for ctx in contexts:
            ctx.close()


def _tries(server_url, code, cid, n, seed=1):
    rng = random.Random(seed)
    for i in range(n):
        status, body, _ = api_call(
            f"{server_url}/api/classes/{code}/challenges/{cid}/submissions", "POST",
            {"name": f"Student {i}", "token": f"token-of-student-{seed}-{i:05d}",
             "values": {"lr": rng.choice([5e-4, 1e-3, 2e-3, 4e-3, 8e-3]),
                        "mu": rng.choice([0.5, 0.9, 0.95, 0.99])}})
        assert status == 201, body


def _in_view(page, selector):
    """Whether ``selector``'s box is inside the window, at the top of the page, and not
    covered at its centre (by the drawer or anything else)."""
    return page.evaluate("""(sel) => {
        const el = document.querySelector(sel), r = el.getBoundingClientRect();
        const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight &&
                       r.right <= innerWidth && r.width > 0 && r.height > 0;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return inside && window.scrollY === 0 && (el === hit || el.contains(hit));
    }""", selector)


def test_a_student_follows_a_changed_value_with_one_request_and_a_new_row_by_the_link(
        browser, server_url):
    """The usual change of a lecture (a value, a start, a live change) is set on a
    follower's page from the values the server parsed for the class, and costs it one
    request, the run; a change of what the page is made of (rows) goes by the link. Either
    way the page draws the run its address describes."""
    from .test_browser_live import assert_drawn_is_the_address
    _, made, _ = api_call(f"{server_url}/api/classes", "POST", {"state": "surface=rosenbrock"})
    code, key = made["code"], made["key"]
    ctx, page = _device(browser, f"{server_url}/c/{code}")
    try:
        _follows(page, "surface=rosenbrock", 30000)
        page.wait_for_function("() => window.__optvizDrawn")
        sent = []
        page.on("request", lambda r: sent.append(r.post_data) if "_dash-update-component"
                in r.url else None)
        for state, shown in [
                ("surface=rosenbrock&lr=0.00133&mu=0.5", "mu=0.5"),
                ("surface=rosenbrock&lr=0.00133&mu=0.5&start=-1,2.5", "start=-1"),
                ("surface=rosenbrock&lr=0.00133&live=100:lr=0.002:mu=0.9:b2=0.99:sigma=0",
                 "live=100"),
                ("surface=rosenbrock&rows=gd,adam", "rows=gd,adam")]:
            sent.clear()
            status, _, _ = api_call(f"{server_url}/api/classes/{code}/state", "PUT",
                                    {"state": state}, key)
            assert status == 200
            _follows(page, shown)
            page.wait_for_function("(q) => window.__optvizDrawn && "
                                   "location.search.replace('?', '') === q", arg=state)
            assert_drawn_is_the_address(page)
            outputs = [b.split('"output":"')[1].split('"')[0] for b in sent]
            if "rows=" in state:                   # the link: the server sets it up
                assert outputs.count("run.data") == 1 and len(outputs) > 1, outputs
            else:
                assert outputs == ["run.data"], outputs
        assert page.console_errors == []
    finally:
        ctx.close()



@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_the_projector_keeps_the_plot_and_the_play_bar_in_view(browser, server_url, width,
                                                               height):
    teacher, code, key = _start_class(browser, server_url, width=width, height=height)
    try:
        shots = {}

        def check(state):
            for selector in (".graph-wrap", "#play", "#scrub"):
                assert _in_view(teacher, selector), (state, selector)
            assert _in_view(teacher, "#class-code") and _in_view(teacher, "#class-url")
            bar = teacher.locator("#class-bar").bounding_box()
            assert bar["height"] <= 64, bar                   # one line
            shots[state] = str(DOCS / f"class-{width}x{height}-{state}.jpg")
            teacher.screenshot(path=shots[state], type="jpeg", quality=70)
        time.sleep(1)
        check("no-challenge")
        cid = _pose(teacher, minutes=20)                      # the drawer is open now
        _tries(server_url, code, cid, 30)
        teacher.wait_for_function("() => document.querySelectorAll('#class-board-body tr')"
                                  ".length === 10", timeout=20000)
        teacher.wait_for_function("() => document.getElementById('class-picture').data",
                                  timeout=30000)
        check("open-30-tries")
        if width == 1280:                                     # the README's picture
            teacher.screenshot(path=str(DOCS / "class.png"))
        teacher.locator("#class-names").check()
        teacher.wait_for_function("() => document.querySelector('#class-board-body')"
                                  ".innerText.includes('Student')")
        teacher.locator("#class-close").click()
        teacher.wait_for_function("() => document.getElementById('class-challenge-box')"
                                  ".textContent.startsWith('Closed')", timeout=15000)
        check("closed-names-shown")
        # folded away: the bar is a line of its own, shorter still
        teacher.locator("#class-drawer-close").click()
        teacher.locator("#class-fold").click()
        assert teacher.locator("#class-bar").bounding_box()["height"] <= 40
        assert teacher.locator("#class-url").is_hidden()
        assert teacher.console_errors == []
    finally:
        teacher.close()


def test_a_student_keeps_what_they_type_and_sees_their_own_rank(browser, server_url):
    teacher, code, key = _start_class(browser, server_url)
    ctx, student = _device(browser, f"{server_url}/c/{code}", 390, 844, is_mobile=True,
                           has_touch=True)
    try:
        cid = _pose(teacher)
        student.locator("#class-name").wait_for(timeout=15000)
        student.locator("#class-name").fill("Half-ty")       # typing, not yet sent
        student.locator("#class-name").focus()
        for _ in range(2):                                   # the projector moves on
            _press(teacher, "#lr [role=slider]", "ArrowRight")
            teacher.wait_for_function("() => location.search.includes('lr=')")
            lr = teacher.evaluate("new URLSearchParams(location.search).get('lr')")
            _follows(student, f"lr={lr}")
        assert student.locator("#class-name").input_value() == "Half-ty"
        assert student.evaluate("document.activeElement.id") == "class-name"
        student.locator("#class-name").type("ped")
        student.locator("#class-submit").click()
        student.wait_for_function("() => document.getElementById('class-me').textContent"
                                  ".includes('rank 1 of 1')", timeout=20000)
        _tries(server_url, code, cid, 5, seed=2)
        student.wait_for_function("() => /rank \\d+ of 6/.test(document.getElementById("
                                  "'class-me').textContent)", timeout=30000)
        assert "your best:" in student.locator("#class-me").inner_text()
        assert student.console_errors == []
    finally:
        teacher.close()
        ctx.close()


def test_a_timed_challenge_counts_down_on_both_screens_and_closes_itself(browser,
                                                                           server_url):
    teacher, code, key = _start_class(browser, server_url)
    ctx, student = _device(browser, f"{server_url}/c/{code}")
    try:
        cid = _pose(teacher, minutes=0.2)                     # 12 s
        for page in (teacher, student):
            page.wait_for_function("() => /^0:\\d\\d left$/.test(document.getElementById("
                                   "'class-clock').textContent)", timeout=15000)
        student.locator("#class-submit").wait_for()
        student.wait_for_function("() => document.getElementById('class-clock').textContent"
                                  " === 'time is up'", timeout=30000)
        assert student.locator("#class-submit").is_hidden()
        student.wait_for_function("() => document.getElementById('class-challenge-word')"
                                  ".textContent === 'Closed:'", timeout=15000)
        teacher.wait_for_function("() => document.getElementById('class-challenge-box')"
                                  ".textContent.startsWith('Closed')", timeout=15000)
        follow = api_call(f"{server_url}/api/classes/{code}")[1]
        assert follow["challenge"]["id"] == cid and follow["challenge"]["open"] is False
        late = api_call(f"{server_url}/api/classes/{code}/challenges/{cid}/submissions",
                        "POST", {"name": "Late", "values": {"lr": 0.001}})
        assert late[0] == 409
    finally:
        teacher.close()
        ctx.close()


def test_the_leaderboard_counts_who_joined_ranks_each_student_once_and_keeps_focus(
        browser, server_url):
    teacher, code, key = _start_class(browser, server_url)
    contexts, students = [], []
    try:
        for _ in range(3):
            ctx, page = _device(browser, f"{server_url}/c/{code}")
            contexts.append(ctx)
            students.append(page)
        teacher.wait_for_function("() => document.getElementById('class-counts')"
                                  ".textContent.startsWith('3 joined')", timeout=15000)
        cid = _pose(teacher)
        for i, page in enumerate(students):
            page.locator("#class-name").fill(["Ada", "Bo", "<b>Cy</b>"][i])
            for _ in range(2):                                 # each tries twice
                page.locator("#class-submit").click()
                page.wait_for_function("() => document.getElementById('class-say')"
                                       ".textContent.startsWith('submitted')", timeout=15000)
                time.sleep(1.1)
                page.evaluate("document.getElementById('class-say').textContent = ''")
        teacher.wait_for_function("() => document.querySelectorAll('#class-board-body tr')"
                                  ".length === 3", timeout=15000)   # one row a student
        board = teacher.locator("#class-board-body").inner_text()
        numbers = sorted(int(n) for n in __import__("re").findall(r"student (\d+)", board))
        assert numbers == [1, 2, 3]                          # numbered in the class
        assert teacher.locator("#class-caption").inner_text().startswith("Leaderboard")
        assert teacher.locator("#class-announce").get_attribute("aria-live") == "polite"
        # periodic updates never move focus
        teacher.locator(".class-remove").nth(1).focus()
        time.sleep(3.5)
        assert teacher.evaluate("document.activeElement.classList.contains('class-remove')")
        teacher.locator("#class-names").check()
        teacher.wait_for_function("() => document.querySelector('#class-board-body')"
                                  ".innerText.includes('<b>Cy</b>')")            # as text
        assert teacher.locator("#class-board-body b").count() == 0
        assert teacher.locator("#class-picture .scatterlayer .point").count() == 6
        assert teacher.evaluate("document.getElementById('class-picture').data[0].type") \
            == "heatmap"
        with teacher.expect_download() as got:
            teacher.locator("#class-csv").click()
        rows = list(csv.DictReader(io.StringIO(open(got.value.path(),
                                                    encoding="utf-8-sig").read())))
        assert len(rows) == 6 and sorted({r["name"] for r in rows}) == ["<b>Cy</b>", "Ada",
                                                                          "Bo"]
        # the best three students as rows of the plot, for every follower: distinct
        teacher.locator("#class-best").click()
        teacher.wait_for_function("() => window.__optvizDrawn.rows.length === 3 && "
                                  "window.__optvizDrawn.rows.every(r => r.uid.startsWith("
                                  "'momentum'))", timeout=15000)
        _follows(students[1], "momentum~2")
        # a try removed from the board: the student's other try is their best now
        teacher.locator(".class-remove").first.click()
        deadline = time.monotonic() + 15
        while len(api_call(f"{server_url}/api/classes/{code}/challenges/{cid}/results",
                           key=key)[1]["tries"]) != 5:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        teacher.wait_for_function("() => document.querySelectorAll('#class-board-body tr')"
                                  ".length === 3", timeout=15000)
        assert teacher.console_errors == []
    finally:
        teacher.close()
        for ctx in contexts:
            ctx.close()


def test_the_join_address_is_the_one_the_administrator_gives(browser, server_url, tmp_path):
    # the session's server is on 127.0.0.1: the projector says phones cannot reach it
    teacher, code, _ = _start_class(browser, server_url)
    try:
        assert teacher.locator("#class-warn").is_visible()
        assert "127.0.0.1" in teacher.locator("#class-warn").inner_text()
    finally:
        teacher.close()
    proc, url = class_server(f"sqlite:///{tmp_path}/c.db",
                             OPTVIZ_PUBLIC_URL="http://192.0.2.10:8050/")
    try:
        teacher, code, _ = _start_class(browser, url)
        try:
            assert teacher.locator("#class-url").inner_text() == \
                f"http://192.0.2.10:8050/c/{code}"
            assert teacher.locator("#class-warn").is_hidden()
            assert api_call(f"{url}/api/classes/{code}")[1]["url"] == \
                f"http://192.0.2.10:8050/c/{code}"
            teacher.locator("#class-qr-button").click()
            assert teacher.locator("#class-qr-full").is_visible()
            assert teacher.locator("#class-qr-full-url").inner_text().endswith(code)
            teacher.keyboard.press("Escape")
            assert teacher.locator("#class-qr-full").is_hidden()
        finally:
            teacher.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


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


def test_a_network_challenge_is_posed_on_a_training_and_scored_for_a_student(browser,
                                                                          server_url):
    """A class that shows a network's training: the projector poses "test accuracy ≥ a
    within the steps, turning α"; a student's try trains the scored row with their α on
    the server and is scored on the test set (the same numbers as a training of that
    row), and the student reads their result."""
    import numpy as np

    from optviz.training import train
    from optviz.web.network_view import training_network
    teacher, code, key = _start_class(
        browser, server_url, "surface=train:n=120;hidden=6&rows=gd,adam&steps=60&lr=0.3")
    ctx, student = _device(browser, f"{server_url}/c/{code}", 390, 844, is_mobile=True,
                           has_touch=True)
    try:
        if teacher.locator("#class-drawer").is_hidden():
            teacher.locator("#class-drawer-toggle").click()
        if not teacher.locator("#class-pose-box").evaluate("d => d.open"):
            teacher.locator("#class-pose-box summary").click()
        teacher.locator("input[name=class-knob][value=mu]").uncheck()
        teacher.locator("#class-goal").select_option("accuracy")
        teacher.locator("#class-acc").fill("0.8")
        teacher.locator("#class-steps").fill("60")
        teacher.locator("#class-pose").click()
        teacher.locator("#class-close").wait_for(timeout=15000)
        challenge = teacher.evaluate("window.optvizClass.data.challenge")
        assert challenge["text"] == "GD: test accuracy ≥ 80 % within 60 steps, turning α"
        assert challenge["goal"]["kind"] == "accuracy" and challenge["goal"]["training"]
        student.locator("#class-name").wait_for(timeout=15000)
        student.locator("#class-name").fill("Ada")
        student.locator("#class-submit").click()
        student.wait_for_function("() => document.getElementById('class-me').textContent"
                                  ".includes('rank 1 of 1')", timeout=30000)
        tries = api_call(f"{server_url}/api/classes/{code}/challenges/{challenge['id']}"
                         "/results", key=key)[1]["tries"]
        assert len(tries) == 1 and tries[0]["values"] == {"lr": 0.3}
        # the score is GD at α = 0.3 trained on that network, on its test set
        net, *_ = training_network("train:n=120;hidden=6")
        run = train(net, [{"name": "gd", "lr": 0.3}], 60)
        assert tries[0]["loss"] == np.float64(run.test_loss[0, 0, -1])
        hits = np.nonzero(run.test_acc[0, 0] >= 0.8)[0]
        assert tries[0]["reached_at"] == (int(hits[0]) if len(hits) else None)
        assert "test L =" in student.locator("#class-me").inner_text()
        # the best try on the projector: the scored row with the student's α, trained
        teacher.wait_for_function("() => document.querySelectorAll('#class-board-body tr')"
                                  ".length === 1", timeout=15000)
        teacher.locator("#class-best").click()
        teacher.wait_for_function("() => location.search.includes('rows=gd:lr=0.3')",
                                  timeout=15000)
        teacher.wait_for_function("() => window.__optvizDrawn && window.__optvizDrawn.rows"
                                  ".length === 1 && window.__optvizDrawn.steps === 60",
                                  timeout=30000)
        assert student.console_errors == [] and teacher.console_errors == []
    finally:
        teacher.close()
        ctx.close()
