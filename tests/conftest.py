"""Shared fixtures: a real gunicorn serving app:server, and Debian's Chromium via
Playwright. With CI set, a missing browser fails the browser tests instead of skipping."""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_proc():
    """A real gunicorn serving app:server (2 workers x 2 threads) on a free port."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "gunicorn.log", "w")
    # a cache of background jobs of its own: a finished map is served from the cache
    cache = tempfile.mkdtemp(prefix="optviz-test-cache-")
    # the class database apart from it (a test removes the cache to see it heal; class
    # mode's own faults have tests of their own, tests/test_class_faults.py)
    classes = tempfile.mkdtemp(prefix="optviz-test-classes-")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server", "-w", "2",
                             "--threads", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            # (every browser of the tests is one client, 127.0.0.1, and
                            # starts more classes an hour than one instructor would; the
                            # limit has tests of its own, tests/test_classes.py)
                            env={**os.environ, "OPTVIZ_CACHE_DIR": cache,
                                 "OPTVIZ_DB_URL": f"sqlite:///{classes}/classes.db",
                                 "OPTVIZ_CLASSES_PER_HOUR": "1000"})
    proc.url = f"http://127.0.0.1:{port}"
    proc.cache = cache
    deadline = time.monotonic() + 90          # a loaded CI machine can be slow to import
    while True:
        try:
            urllib.request.urlopen(proc.url + "/", timeout=5)
            break
        except Exception:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                proc.terminate()
                pytest.fail(f"gunicorn did not answer within 90 s; see {log.name}")
            time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="session")
def server_url(server_proc):
    return server_proc.url


@pytest.fixture(scope="session")
def browser():
    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(exe):
        msg = f"no Chromium at {exe}: apt-get install -y chromium (or set CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, server_url, width, height, **context):
    """The page in a new tab of ``width`` x ``height`` (``context``: Playwright's
    browser-context options, e.g. a phone's is_mobile and has_touch)."""
    page = browser.new_page(viewport={"width": width, "height": height}, **context)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url)
    try:
        # generous: the first page of a session loads Plotly and MathJax into a cold browser
        page.wait_for_selector("#graph .js-plotly-plot", timeout=60000)
        page.wait_for_function("() => document.querySelectorAll('#legend .legend-row')"
                               ".length > 0", timeout=60000)
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failed-open.png"), full_page=True)
        raise AssertionError(f"page did not finish loading; console: {errors}; status: "
                             f"{page.locator('#status').inner_text()!r}") from None
    page.console_errors = errors
    return page


@pytest.fixture
def page(browser, server_url):
    pg = _open(browser, server_url, 1280, 720)
    yield pg
    pg.close()


@pytest.fixture
def phone(browser, server_url):
    pg = _open(browser, server_url, 390, 844, is_mobile=True, has_touch=True)
    yield pg
    pg.close()


def class_server(db_url, workers=2, threads=1, **env):
    """A real gunicorn serving app:server with class mode on ``db_url`` (its own cache
    directory; ``env`` added to the environment), once it answers: (process, url)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "-w", str(workers), "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "--timeout", "60"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OPTVIZ_DB_URL": db_url, "OPTVIZ_CLASS_STUDENTS": "100000",
             "OPTVIZ_CACHE_DIR": tempfile.mkdtemp(prefix="optviz-class-cache-"), **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return proc, url
        except Exception:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("gunicorn did not start")


def api_call(url, method="GET", body=None, key=None):
    """A JSON request: (status, the answer's JSON or None, its headers)."""
    import json
    import urllib.error
    req = urllib.request.Request(url, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"X-Class-Key": key} if key else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        try:
            body = json.loads(e.read() or b"null")
        except ValueError:
            body = None
        return e.code, body, e.headers


class PostgresServer:
    """A throwaway PostgreSQL server of Debian's postgresql package (initdb in a temporary
    directory, its own port; as the postgres user when run as root, which PostgreSQL
    refuses): ``url``, ``stop()``, ``start()``, ``remove()``. Fails, not skips, when the
    package is missing."""

    def __init__(self):
        import glob
        import shutil
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            pytest.fail("no PostgreSQL server: apt-get install -y postgresql")
        self.bin = os.path.dirname(found[-1])
        self.data = tempfile.mkdtemp(prefix="optviz-pg-")
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run(f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8")
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd):
        if os.geteuid() == 0:
            cmd = ("su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                       timeout=120)

    def start(self):
        self._run(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-l", f"{self.data}/log",
                  "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                  "-c fsync=on", "start")

    def stop(self):
        self._run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self):
        import shutil
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass                                  # (stopped already)
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a throwaway PostgreSQL server for the session (PostgresServer)."""
    server = PostgresServer()
    yield server.url
    server.remove()
