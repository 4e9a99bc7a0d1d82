"""optviz's engine as a wheel, served by the page's server at a stable address.

The Python download (exports.run_python) reproduces a run with the engine, which needs
NumPy only; no package index holds optviz, so the server that made the script serves the
engine itself: ``GET /wheel/optviz-<version>-py3-none-any.whl``, which
``pip install <that address>`` installs (NumPy from the index as usual). The wheel holds
the ``optviz`` package as this server runs it, without ``optviz.web`` (the page) and the
console script; it is built in memory once per process, byte for byte the same each time
(fixed timestamps, sorted entries), so its ETag is stable.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import pathlib
import zipfile

from .. import __version__

__all__ = ["WHEEL_NAME", "WHEEL_PATH", "engine_wheel", "register"]

WHEEL_NAME = f"optviz-{__version__}-py3-none-any.whl"
#: where the server serves it (a pip-installable address: it ends in the wheel's name)
WHEEL_PATH = f"/wheel/{WHEEL_NAME}"
PACKAGE = pathlib.Path(__file__).resolve().parent.parent
_LEFT_OUT = {"web", "__pycache__"}
_DATE = (2020, 1, 1, 0, 0, 0)

METADATA = f"""Metadata-Version: 2.1
Name: optviz
Version: {__version__}
Summary: optviz's engine: many optimizers racing on one 2-D loss surface (NumPy only)
Requires-Python: >=3.11
License: MIT
Requires-Dist: numpy>=1.26
"""
WHEEL = """Wheel-Version: 1.0
Generator: optviz.web.wheel
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _files() -> list[tuple[str, bytes]]:
    """(name in the wheel, bytes) of the engine's modules, sorted."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if _LEFT_OUT.intersection(rel.parts[:-1]) or rel.name == "__main__.py":
            continue
        out.append(("optviz/" + rel.as_posix(), path.read_bytes()))
    return out


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


@functools.lru_cache(maxsize=1)
def engine_wheel() -> bytes:
    """The wheel's bytes (see the module's docstring)."""
    info = f"optviz-{__version__}.dist-info"
    files = _files()
    license_file = PACKAGE.parent / "LICENSE"
    if license_file.exists():
        files.append((f"{info}/licenses/LICENSE", license_file.read_bytes()))
    files += [(f"{info}/METADATA", METADATA.encode()), (f"{info}/WHEEL", WHEEL.encode()),
              (f"{info}/top_level.txt", b"optviz\n")]
    record = "".join(f"{name},{_hash(data)},{len(data)}\n" for name, data in files)
    files.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    return buf.getvalue()


def register(server) -> None:
    """``GET WHEEL_PATH`` on the Flask ``server`` (with an ETag: a revalidation is a 304)."""
    from flask import Response, request

    @server.get(WHEEL_PATH)
    def optviz_wheel():
        data = engine_wheel()
        etag = hashlib.sha256(data).hexdigest()[:32]
        if etag in request.if_none_match:
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        return Response(data, mimetype="application/zip", headers={
            "ETag": f'"{etag}"', "Cache-Control": "public, max-age=3600",
            "Content-Disposition": f"attachment; filename={WHEEL_NAME}"})
