"""Downloads: a file the library wrote under the workspace's ``reports`` folder (an
incident report, a PIA export, a destruction certificate, a dossier), named in the URL
only by the record's number and the file's plain name (never a person's data, never a
path), and served only when it lies inside that folder and still has the SHA-256 the
library recorded for it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse

from handover.errors import CheckFailed
from handover.workspace import Workspace

#: a file's plain name: no folder, no leading dot, nothing a shell or a URL would bend
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
TYPES = {
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".sig": "application/json",
    ".zip": "application/zip",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


def inside_reports(ws: Workspace, path: Path | str) -> Path | None:
    """``path`` resolved, when it is inside the workspace's reports folder; else None."""
    root = ws.settings.reports_dir.resolve()
    try:
        found = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    return found if found.is_relative_to(root) and found != root else None


def download(
    ws: Workspace, folder: Path | str, name: str, hashes: Mapping[str, str] | None
) -> FileResponse:
    """File ``name`` of ``folder`` as an attachment. 404 when the name is not a plain file
    name, not one of ``hashes`` (the files the library registered), or the file is not
    inside the reports folder; 409 when its content no longer has the registered hash."""
    from handover.crypto.digest import sha256_file

    if not NAME.match(name) or ".." in name or (hashes is not None and name not in hashes):
        raise HTTPException(404)
    path = inside_reports(ws, Path(folder) / name)
    if path is None or not path.is_file():
        raise HTTPException(404)
    if hashes is not None and sha256_file(path) != hashes[name]:
        raise CheckFailed.msg("web.files.altered", name=name)
    return FileResponse(
        path,
        media_type=TYPES.get(path.suffix.lower(), "application/octet-stream"),
        filename=name,
        content_disposition_type="attachment",
    )
