"""gunicorn settings for the Docker image and any deployment: every value from the
environment, defaults sized for a 2-core host (documented in the README)."""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
# one worker per core: a simulation holds the GIL, so workers (not threads) add compute
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# a few threads per worker overlap the network with another request's simulation
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
# restart workers now and then: bounded memory over a whole term
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
