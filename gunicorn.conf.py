"""gunicorn settings for the Docker image and any deployment: every value from the
environment, defaults sized for a 2-core host (documented in the README)."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
# cores + 1 workers for a 2-core host: a request is CPU with the GIL held (~11 ms of
# simulation, figures and Dash on average in the 50-student mix), so more processes than
# cores only take turns on the same caches: in the 50-student load test (benchmarks.load)
# 5 workers cost ~7 % more server CPU per request than 3, at the same request rate. Each
# worker takes ~95 MB (plus its cache of at most 64 small runs). On a bigger host set
# WEB_CONCURRENCY to its cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# one thread per worker: threads share the GIL, and with 2 threads the 50-student load
# test served ~13 % fewer requests a second with twice the p95 latency. Raise it only for
# clients on slow networks with no reverse proxy in front.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# import the app once in the master and fork the workers from it: the import (~1.5 CPU-s)
# is paid once instead of once per worker and per restart (max_requests below), and the
# workers share its memory. Nothing at import holds a connection or a thread: the
# Diskcache manager reconnects after a fork (it checks the pid), Celery and Redis connect
# on first use. GUNICORN_PRELOAD=0 turns it off.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
graceful_timeout = 10
# restart workers now and then: bounded memory over a whole term. Every cache a worker
# keeps is bounded already, so this is for the allocator's fragmentation only, and a
# restart is not free: the new worker starts with cold caches. A class of 300 polls ~200
# times a second per worker; at 2000 each worker restarted every 10 s and a poll cost the
# server 1.1 ms instead of 0.7 (benchmarks.classroom). 50,000 is a few minutes of a full
# class, hours of ordinary use.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "5000"))
# "-" is stdout; an empty value turns the access log off
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
