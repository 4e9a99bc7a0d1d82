"""gunicorn settings for the Docker image and any deployment: every value from the
environment, defaults sized for a 2-core host (documented in the README)."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
# cores + 1 workers for a 2-core host: a request is CPU with the GIL held (~11 ms of
# simulation, figures and Dash on average in the 50-student mix), so more processes than
# cores only take turns on the same caches. The 50-student load test on 2 cores
# (2026-11-23, server CPU per request while serving, divided by the load client's to cancel
# the machine's own swings): 3 workers 10.3-11.4 (four runs, mean 10.8), 5 workers
# 11.0-12.1 (seven runs, mean 11.6); 104-114 req/s with either when the machine is not
# throttled, 93-99 when it is. Each worker takes ~95 MB (plus its cache of at most 64
# small runs). On a bigger host set WEB_CONCURRENCY to its cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# one thread per worker: threads share the GIL, and with 2 threads the 50-student load
# test fell from 107 to 93 requests/s (p95 159 -> 386 ms). Raise it only for clients on
# slow networks with no reverse proxy in front.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# import the app once in the master and fork the workers from it: the import (~1.5 CPU-s)
# is paid once instead of once per worker and per restart (max_requests below), and the
# workers share its memory. Nothing at import holds a connection or a thread: the
# Diskcache manager reconnects after a fork (it checks the pid), Celery and Redis connect
# on first use. GUNICORN_PRELOAD=0 turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
graceful_timeout = 10
# restart workers now and then: bounded memory over a whole term
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# "-" is stdout; an empty value turns the access log off
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
