"""optviz: ``python app.py`` serves the page at http://127.0.0.1:8050 (HOST and PORT
from the environment); gunicorn serves ``app:server``."""
import os

from optviz.web import create_app

app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")),
            debug=False)
