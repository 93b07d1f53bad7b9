"""Uploaded files are written only once the transaction that references them commits.

A service *stages* a file (:func:`stage`) while it builds the rows that name it; nothing touches the
disk yet. When the session's transaction commits, the staged files are written (each to a temporary
name first, then renamed, so a reader never sees half a file); when it rolls back or is closed
without committing — a refused intake, a duplicate check-out — the staged files are dropped and no
stray photo is left behind. Removing works the same way: a file marked with :func:`discard` is
deleted only once the transaction that stops naming it commits.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_STAGED = "fieldsvc_staged_uploads"
_DISCARDED = "fieldsvc_discarded_uploads"


@dataclass(frozen=True)
class StagedFile:
    target: Path
    data: bytes


def stage(session: Session, upload_dir: str | Path, relative_path: str | Path, data: bytes) -> str:
    """Write `data` to upload_dir/relative_path when `session` commits; the relative path (posix)."""
    rel = Path(relative_path)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"an upload path must stay inside the upload folder: {relative_path}")
    session.info.setdefault(_STAGED, []).append(StagedFile(Path(upload_dir) / rel, data))
    return rel.as_posix()


def unstage(session: Session, upload_dir: str | Path, relative_paths: list[str]) -> None:
    """Forget staged files (the rows naming them will not be committed)."""
    targets = {Path(upload_dir) / p for p in relative_paths}
    session.info[_STAGED] = [f for f in session.info.get(_STAGED, []) if f.target not in targets]


def inside(upload_dir: str | Path, relative_path: str) -> Path | None:
    """upload_dir/relative_path resolved, or None when it leads outside the upload folder."""
    root = Path(upload_dir).resolve()
    target = (root / relative_path).resolve()
    return target if root in target.parents else None


def discard(session: Session, upload_dir: str | Path, relative_path: str | None) -> None:
    """Delete upload_dir/relative_path when `session` commits (nothing when it rolls back)."""
    if not relative_path:
        return
    target = inside(upload_dir, relative_path)
    if target is None:
        raise ValueError(f"an upload path must stay inside the upload folder: {relative_path}")
    session.info.setdefault(_DISCARDED, []).append(target)


def staged(session: Session) -> list[Path]:
    """Where the staged files of `session` will be written (for tests and diagnostics)."""
    return [f.target for f in session.info.get(_STAGED, [])]


def _write(item: StagedFile) -> None:
    item.target.parent.mkdir(parents=True, exist_ok=True)
    partial = item.target.with_name(item.target.name + ".part")
    partial.write_bytes(item.data)
    os.replace(partial, item.target)


@event.listens_for(Session, "after_commit")
def _write_staged(session: Session) -> None:
    """The transaction committed: write the staged files, delete the discarded ones."""
    for item in session.info.pop(_STAGED, []):
        try:
            _write(item)
        except OSError:  # the rows are committed; a full disk is logged, never raised into the caller
            log.exception("could not write the uploaded file %s", item.target)
    for target in session.info.pop(_DISCARDED, []):
        try:
            target.unlink(missing_ok=True)
        except OSError:  # the rows are committed; a file left behind is logged, never raised
            log.exception("could not delete the uploaded file %s", target)


@event.listens_for(Session, "after_transaction_end")
def _drop_staged(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_STAGED, None)
        session.info.pop(_DISCARDED, None)
