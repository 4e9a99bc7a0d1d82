"""optviz: ``python app.py`` serves the page at http://127.0.0.1:8050 (HOST and PORT
from the environment); gunicorn serves ``app:server``; with REDIS_URL set, Celery
workers run the long explorations: ``celery -A app:celery_app worker``."""
import os

from optviz.web import create_app

app = create_app()
server = app.server
#: the Celery app when REDIS_URL is set (``celery -A app:celery_app worker``), else None
celery_app = app.celery_app

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")),
            debug=False)
