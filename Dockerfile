# optviz for a class: gunicorn serving app:server on port 8050.
#   docker build -t optviz .
#   docker run -p 8050:8050 optviz
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY app.py gunicorn.conf.py ./
COPY optviz ./optviz

RUN useradd --create-home --uid 10001 optviz \
    && mkdir /data && chown 10001 /data
USER 10001
# class mode's database: a SQLite file on a volume (a PostgreSQL URL replaces it when
# several web containers serve one class: see docker-compose.yml)
ENV OPTVIZ_DB_URL=sqlite:////data/classes.db
VOLUME ["/data"]

EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:server"]
