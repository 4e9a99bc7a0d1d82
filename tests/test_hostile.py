"""Hostile requests against the live gunicorn server: never a 5xx, always quick, and the
server keeps serving with bounded memory."""
import json
import os
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.server import post as post_to

from .conftest import ARTIFACTS
from .test_cost import SIN_PRODUCT, continued_fraction
from .test_web import _main_callback_request, _page_rows_store, run_answer

junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
              st.sampled_from([1e9, 1e308, -1e308, "abc", "NaN", "Infinity", 10**30, [], {}])),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=20)

TIME_LIMIT = 2.0      # seconds per answer, with room for a busy CI machine
COUNT = {"n": 0}


def post(url, body: bytes, timeout=10):
    """(status, answer, seconds) of a callback request to the server at ``url``."""
    return post_to(url + "/_dash-update-component", body, timeout)


def envelope_with(values: dict):
    """A real main-callback request whose input values are replaced by ``values``."""
    body = _main_callback_request(-1.5)
    for item in body["inputs"] + body["state"]:
        if isinstance(item, dict) and item["id"] in values:
            item["value"] = values[item["id"]]
    return body


CONTROL_IDS = ["surface", "view", "lr", "beta1", "beta2", "noise", "schedule", "gamma",
               "step-size", "warmup", "steps", "seed", "clip", "click-start", "formula",
               "formula-view", "formula-minima", "batch"]

def any_callback_request(output_prefix: str, values: list, changed: int):
    """A request to the callback whose output key starts with ``output_prefix``, every
    input and state value replaced by junk (``values``, reused round-robin)."""
    from app import app
    output = next(k for k in app.callback_map if k.lstrip(".").startswith(output_prefix))
    spec = app.callback_map[output]
    deps = spec["inputs"] + spec.get("state", [])
    filled = [{"id": json.loads(d["id"]) if d["id"].startswith("{") else d["id"],
               "property": d["property"], "value": values[i % len(values)] if values else None}
              for i, d in enumerate(deps)]
    n_in = len(spec["inputs"])
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in output.strip(".").split("...")]
    changed_dep = deps[changed % n_in]
    return {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": [f if not isinstance(f["id"], dict) else [f] for f in filled[:n_in]],
            "state": filled[n_in:],
            "changedPropIds": [f"{changed_dep['id']}.{changed_dep['property']}"]}


#: the page's server callbacks: main (run), link/scenario (surface...), download
CALLBACKS = ["run.data", "surface.value", "download.data", "rows.children"]

payloads = st.one_of(
    st.builds(any_callback_request, st.sampled_from(CALLBACKS), st.lists(junk, max_size=6),
              st.integers(0, 40)).map(lambda b: json.dumps(b, default=str).encode()),
    st.dictionaries(st.sampled_from(CONTROL_IDS), junk, min_size=1, max_size=5)
    .map(lambda v: json.dumps(envelope_with(v), default=str).encode()),
    junk.map(lambda j: json.dumps(j, default=str).encode()),
    st.dictionaries(st.sampled_from(["output", "outputs", "inputs", "state",
                                     "changedPropIds"]), junk, max_size=5)
    .map(lambda d: json.dumps({**_main_callback_request(-1.5), **d}, default=str).encode()),
    st.binary(max_size=200),
)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1])


def workers(master_pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().split(") ")[1].split()[1]) == master_pid:
                        out.append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    return out


@pytest.fixture(scope="module")
def live(server_url):
    status, _, _ = post(server_url, json.dumps(_main_callback_request(-1.5)).encode(),
                        timeout=60)
    assert status == 200
    return server_url


@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(payloads)
def test_hostile_payloads_get_4xx_or_an_answer_quickly(live, body):
    status, data, seconds = post(live, body)
    COUNT["n"] += 1
    assert status < 500, data[:300]
    assert seconds < TIME_LIMIT, f"{seconds:.2f} s"


@pytest.mark.parametrize("values, expect", [
    ({"steps": 1e9}, "steps"), ({"lr": float("nan")}, "lr"), ({"lr": "abc"}, "lr"),
    ({"lr": 1e308}, "lr"), ({"click-start": [[0, 0]] * 1_000}, None),
    ({"surface": {"a": [[[[[]]]]]}}, "surface"), ({"steps": None}, "steps"),
])
def test_named_hostile_values(live, values, expect):
    status, data, seconds = post(live, json.dumps(envelope_with(values)).encode())
    assert status < 500 and seconds < TIME_LIMIT
    if expect:
        assert status == 200
        errors = run_answer(json.loads(data))["errors"]
        assert any(expect in msg for msg in errors.values()), errors


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_a_body_nested_100000_deep_gets_400(live):
    status, data, seconds = post(live, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and b"nested too deeply" in data and seconds < TIME_LIMIT


def test_a_path_out_of_the_script_folders_gets_404_and_lists_nothing(live, server_proc):
    log = ARTIFACTS / "gunicorn.log"
    before = log.stat().st_size
    for path in ("/_dash-component-suites/dash/../../../../etc/passwd",
                 "/_dash-component-suites/dash/%2e%2e/%2e%2e/etc/passwd",
                 "/_dash-component-suites/dash/no-such-file.js"):
        status, data = _get(live + path)
        assert status == 404, (path, status)
        assert b"root:" not in data and b"registered" not in data
    with open(log, "rb") as f:
        f.seek(before)
        assert b"registered paths" not in f.read()


def test_outputs_that_do_not_match_the_callback_get_400(live):
    from app import app
    output = next(k for k in app.callback_map if k.startswith("..click-start.data"))
    body = any_callback_request("click-start.data", [None], 0)
    assert body["output"] == output
    body["outputs"] = [{"id": "graph", "property": "figure"}] * len(body["outputs"])
    status, data, _ = post(live, json.dumps(body).encode())
    assert status == 400 and b"do not match" in data


@pytest.mark.parametrize("text, rows", [
    (continued_fraction(), ["gd", "newton"]), (SIN_PRODUCT, ["newton"])])
def test_formulas_that_hung_a_worker_answer_at_once(live, text, rows):
    """(They answered 500 after 30 s: a WORKER TIMEOUT, every time.)"""
    for steps in (300, 5000):
        values = {"surface": "formula", "formula": text, "steps": steps,
                  "rows-store": _page_rows_store([{"uid": r, "on": True} for r in rows])}
        status, data, seconds = post(live, json.dumps(envelope_with(values)).encode())
        assert status == 200 and seconds < TIME_LIMIT, (steps, status, seconds)
        errors = run_answer(json.loads(data)).get("errors", {})
        if steps == 5000:            # Newton on its compiled Hessian costs too much here
            assert "at most" in errors.get("steps-err", "") and \
                errors.get("status") == errors["steps-err"], errors   # also under the plot
        else:
            assert errors == {}, errors


def test_ten_megabyte_body_is_refused_quickly(live):
    t0 = time.perf_counter()
    try:
        status, _, _ = post(live, b"{" + b" " * 10_000_000 + b"}")
    except urllib.error.URLError as e:      # refused before the upload finished: the
        status = 413 if isinstance(e.reason, (BrokenPipeError, ConnectionResetError)) \
            else e                           # server answered 413 and closed
    assert status == 413 and time.perf_counter() - t0 < TIME_LIMIT
    status, _, _ = post(live, json.dumps(_main_callback_request(-1.5)).encode())
    assert status == 200


def test_server_still_serves_with_bounded_memory_after_the_fuzz(live, server_proc):
    assert COUNT["n"] >= 1000 or COUNT["n"] == 0      # 0 when run on its own
    before = sum(rss_kb(p) for p in workers(server_proc.pid))
    for i in range(20):
        status, data, _ = post(live, json.dumps(_main_callback_request(-1.5 + i / 100)).encode())
        assert status == 200 and "meta" in run_answer(json.loads(data))
    after = sum(rss_kb(p) for p in workers(server_proc.pid))
    assert after < before + 200_000, (before, after)          # KB
    assert after < 2 * 1_500_000                                 # two workers, 1.5 GB each
