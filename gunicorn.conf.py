"""gunicorn settings for the Docker image and any deployment: every value from the
environment, defaults sized for a 2-core host (documented in the README)."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
# 2 x cores + 1 workers (gunicorn's rule) for a 2-core host: a request is ~8 ms of CPU
# with the GIL held, and while one worker compresses or writes, another computes. The
# 50-student load test on 2 cores (client included): 2 workers 95 req/s, p95 296 ms;
# 3: 101-102, p95 202-209; 5: 104, p95 178. Each worker takes ~95 MB (plus its cache of
# at most 64 small runs). On a bigger host set WEB_CONCURRENCY to 2 x its cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY", "5"))
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
max_requests_jitter = 200
# "-" is stdout; an empty value turns the access log off
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
