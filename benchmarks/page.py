"""Browser figures for the page: ``python -m benchmarks.page`` (starts its own gunicorn).

1. slider change -> updated trajectories drawn: time from the key press on the learning-
   rate slider (performance.now() in the page) to the page having drawn the new run's
   paths, default scene; median over several moves                    (target <= 100 ms)
2. the callback's response: bytes as sent (Chromium asks for zstd) and uncompressed
                                                                      (target <= 150 KB)
3. animation with 10 rows x 1000 steps: frames drawn per second      (target >= 30)
4. opening the page: the server's CPU time for everything one open asks for (the
   scripts, the layout, the one run), for a new visitor (a fresh browser profile) and a
   reload, as a browser on HTTPS or localhost asks (zstd) and on plain HTTP (gzip)
5. the first picture: navigation start to the paths drawn, a fresh tab each time, on a
   1280 x 720 desktop and a phone profile        (targets <= 1.5 s and <= 2.5 s)

Needs Debian's Chromium (CHROMIUM to point elsewhere) and the dev requirements.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from benchmarks.server import server_cpu
from tests.conftest import CHROMIUM_ARGS, ROOT, free_port

MEASURE_JS = """
async ([key]) => {
  // from the key press to the canvas having drawn the paths of the new run
  const before = window.__optvizDrawn;
  const handle = document.querySelector('#lr [role=slider]');
  handle.focus();
  const t0 = performance.now();
  handle.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
  handle.dispatchEvent(new KeyboardEvent('keyup', {key, bubbles: true}));
  const deadline = t0 + 10000;
  while (window.__optvizDrawn === before && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return window.__optvizDrawn === before ? null : window.__optvizDrawnAt - t0;
}
"""


def serve():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server", "-w", "2",
                             "--threads", "2", "-b", f"127.0.0.1:{port}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return proc, url
        except Exception:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


READY = "() => window.__optvizDrawn && document.querySelector('#legend .legend-row')"


def first_picture(browser, url, context_options, opens=10):
    """Figure 5: navigation start to the paths drawn (performance.now() in the page when
    it drew them), each in a fresh browser profile (nothing cached)."""
    times = []
    for _ in range(opens):
        context = browser.new_context(**context_options)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(READY, timeout=60000)
        times.append(page.evaluate("window.__optvizDrawnAt"))
        context.close()
    return times


def opening(browser, url, proc, opens=10):
    """Figure 4: server CPU a page open costs, new visitor and reload."""
    for codec, accept in (("zstd", None), ("gzip", "gzip, deflate")):
        fresh, again = [], []
        for _ in range(opens):
            context = browser.new_context(viewport={"width": 1280, "height": 720},
                                          extra_http_headers={"Accept-Encoding": accept}
                                          if accept else None)
            page = context.new_page()
            for cpu in (fresh, again):
                c0 = server_cpu(proc.pid)
                if cpu is fresh:
                    page.goto(url)
                else:
                    page.reload()
                page.wait_for_function(READY, timeout=60000)
                page.wait_for_load_state("networkidle")
                cpu.append(server_cpu(proc.pid) - c0)
            context.close()
        # (means: the kernel counts CPU time in 10 ms ticks, too coarse for a median)
        print(f"opening the page ({codec}): server CPU {1e3 * statistics.mean(fresh):.0f} ms "
              f"a new visitor, {1e3 * statistics.mean(again):.0f} ms a reload (means of "
              f"{opens})")


def first_pictures(browser, devices, url, opens=10):
    """Figure 5, a projector (1280 x 720) and a phone (Pixel 7) in turn, ``opens`` each."""
    profiles = {"desktop 1280x720": {"viewport": {"width": 1280, "height": 720}},
                "phone (Pixel 7)": dict(devices["Pixel 7"])}
    found = {name: [] for name in profiles}
    for _ in range(opens // 2):                       # alternate: the machine's noise
        for name, options in profiles.items():        # falls on both alike
            found[name] += first_picture(browser, url, options, 2)
    for (name, times), target in zip(found.items(), (1500, 2500)):
        q = statistics.quantiles(times, n=4)
        print(f"first picture, {name}, a fresh tab: median {statistics.median(times):.0f} ms "
              f"(quartiles {q[0]:.0f}-{q[2]:.0f} over {len(times)})  (target <= {target} ms)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=15)
    ap.add_argument("--url", help="measure a running server instead of starting one")
    ap.add_argument("--first-picture", action="store_true",
                    help="measure only the first picture (figure 5)")
    args = ap.parse_args(argv)
    proc, url = (None, args.url) if args.url else serve()
    sizes = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS)
            if args.first_picture:
                first_pictures(browser, p.devices, url, opens=20)
                return
            page = browser.new_page(viewport={"width": 1280, "height": 720})

            def on_response(r):
                if "_dash-update-component" in r.url and r.request.method == "POST":
                    try:
                        body = r.body()
                    except PlaywrightError:      # a request the page superseded: the
                        return                   # browser dropped its body unread
                    if b'"meta"' in body:
                        sizes.append((int(r.headers.get("content-length", len(body))),
                                      len(body), r.headers.get("content-encoding", "none")))
            page.on("response", on_response)
            page.goto(url)
            page.wait_for_selector("#legend .legend-row")
            page.wait_for_timeout(500)
            sizes.clear()
            times = []
            for i in range(args.moves):
                ms = page.evaluate(MEASURE_JS, ["ArrowRight" if i % 2 == 0 else "ArrowLeft"])
                if ms is not None:
                    times.append(ms)
                page.wait_for_timeout(150)
            print(f"slider -> trajectories drawn, default scene (6 rows x 300 steps): median "
                  f"{statistics.median(times):.0f} ms, min {min(times):.0f}, max "
                  f"{max(times):.0f} over {len(times)} moves  (target <= 100 ms)")
            sent = statistics.median(s[0] for s in sizes)
            raw = statistics.median(s[1] for s in sizes)
            coding = ", ".join(sorted({s[2] for s in sizes}))
            print(f"callback response: median {sent / 1024:.0f} KB as sent ({coding}), "
                  f"{raw / 1024:.0f} KB uncompressed  (target <= 150 KB)")

            # 10 rows x 1000 steps
            page.get_by_text("more optimizers").click()
            for label in ("AdamW", "NAdam", "RAdam", "Adamax"):
                page.get_by_label(label, exact=True).check()
            page.locator("#steps").fill("1000")
            page.locator("#steps").press("Enter")
            page.wait_for_function("() => document.querySelectorAll('#legend .legend-row')"
                                   ".length === 10 && window.__optvizMeta.steps === 1000")
            page.locator("#play").click()
            page.wait_for_timeout(300)
            f0, t0 = page.evaluate("[window.__optvizPlayer.frames, performance.now()]")
            page.wait_for_timeout(3000)
            f1, t1 = page.evaluate("[window.__optvizPlayer.frames, performance.now()]")
            page.locator("#play").click()
            page.close()
            print(f"animation, 10 rows x 1000 steps: {(f1 - f0) / (t1 - t0) * 1000:.0f} frames/s "
                  f"(target >= 30; headless Chromium caps requestAnimationFrame near 60)")
            first_pictures(browser, p.devices, url)
            if proc:
                opening(browser, url, proc)
            browser.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
