"""The output folder policy: what a run may write, replace or delete, and when.

A run never deletes or overwrites a file it did not create. The rules, checked by
:func:`check_out_dir` before anything is written (and before any text is read):

- the output path must be a folder that can hold a run: not an existing file, not the
  current directory, the input, an ancestor of the input or a folder inside the input,
  not the home folder, the file-system root or a system folder (``/proc``, ``/sys``,
  ``/dev``, ...);
- an existing non-empty folder is only used again with ``--force`` (start over) or
  ``--resume`` (finish an interrupted run), and only when it holds a pipeline run (its
  ``manifest.json`` or its checkpoints under ``.work/``); a folder of other files is
  refused even with ``--force``;
- ``--force`` replaces only the files a run writes (the tables in each format,
  ``manifest.json``, ``evaluation.json``, the checkpoints); anything else in the folder
  stays.

:class:`RunFolder` then holds the folder for the run: it takes a lock (a second run on
the same folder fails with the holder's pid), stages the new tables under
``OUT/.work/next/`` and renames them into place only when all are complete
(:meth:`RunFolder.publish`), so a run that fails, even a ``--force`` run, leaves the
previous run loadable and unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from pathlib import Path

from .errors import (EnvironmentProblem, OutputExistsError, OutputLockedError, OutputPathError,
                     PipelineError)

__all__ = ["RunFolder", "check_out_dir", "is_run_folder", "RUN_FILES", "WORK", "os_error"]

WORK = ".work"
LOCK = ".pipeline.lock"
TABLES = ("documents", "mentions", "entities", "cooccurrences", "links", "quotes")
#: every file name a run (or ``pipeline evaluate``) writes into its folder
RUN_FILES = frozenset([f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")]
                      + ["manifest.json", "evaluation.json"])
_SYSTEM = ("/proc", "/sys", "/dev", "/boot", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/usr")


def os_error(exc: OSError, what: str) -> PipelineError:
    """An OSError met while writing outputs -> a one-line error with the right exit code."""
    env = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EMFILE}
    detail = exc.strerror or str(exc)
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in env:
        return EnvironmentProblem(f"{what}: {detail}{where}")
    return OutputPathError(f"{what}: {detail}{where}")


def is_run_folder(path: Path) -> bool:
    """True when ``path`` holds a pipeline run: a manifest we wrote, or our checkpoints."""
    path = Path(path)
    manifest = path / "manifest.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and "pipeline_version" in data:
            return True
    return (path / WORK / "state.json").is_file()


def _resolved(p: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(p)))).resolve()


def check_out_dir(out_dir: str | Path, input_path: str | Path | None = None, *, force: bool = False,
                  resume: bool = False) -> Path:
    """Refuse an output folder that can never work or that would be clobbered; writes nothing.

    Returns the resolved folder. Raises :class:`OutputPathError` (a path that can never
    be a run folder) or :class:`OutputExistsError` (a previous run or other files there,
    and neither ``force`` nor ``resume`` apply).
    """
    if str(out_dir).strip() == "":
        raise OutputPathError("the output folder is empty (--out \"\"); give a folder name")
    out = _resolved(Path(out_dir))
    cwd = _resolved(Path.cwd())
    home = _resolved(Path.home())
    if out == Path(out.anchor):
        raise OutputPathError(f"refusing to write a run into the file-system root {out}; choose a new folder")
    if out == cwd:
        raise OutputPathError(f"refusing to write a run into the current directory {out}; "
                              "choose a new folder such as outputs/<name>")
    if out == home:
        raise OutputPathError(f"refusing to write a run into the home folder {out}; choose a new folder")
    if any(out == Path(s) or Path(s) in out.parents for s in _SYSTEM):
        raise OutputPathError(f"refusing to write a run under the system folder {out}; choose another folder")
    if out in cwd.parents:
        raise OutputPathError(f"{out} contains the current directory; choose a new folder for the run")
    if input_path is not None:
        inp = _resolved(Path(input_path))
        if out == inp or out in inp.parents:
            raise OutputPathError(f"output folder {out} contains the input {inp}; choose another --out")
        if inp.is_dir() and inp in out.parents:
            raise OutputPathError(f"output directory {out} is inside the input directory {inp}; "
                                  "choose another --out")
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"the output path {out} is an existing file, not a folder; choose another --out")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"cannot create {out}: {parent} is a file, not a folder")
            break
    if out.is_dir():
        _check_not_locked(out)
        try:
            entries = [e for e in os.listdir(out) if e != LOCK]
        except OSError as exc:
            raise os_error(exc, f"cannot read the output folder {out}") from None
        if entries:
            run_here = is_run_folder(out)
            work = out / WORK
            if not run_here:
                raise (OutputPathError if force else OutputExistsError)(
                    f"output folder {out} is not empty and holds no pipeline run "
                    f"({', '.join(sorted(entries)[:5])}{' ...' if len(entries) > 5 else ''}); "
                    "--force only replaces a previous run's folder: choose a new or empty folder")
            if resume:
                if not work.exists() and not force:
                    raise OutputExistsError(f"{out} holds a finished run; nothing to resume "
                                            "(use --force to redo it)")
            elif not force:
                hint = " (an interrupted run is there: finish it with --resume)" if work.exists() else ""
                raise OutputExistsError(f"output directory {out} holds a previous run{hint}; "
                                        "use --force to replace it")
    return out


def _check_not_locked(out: Path) -> None:
    """Fail at once when another live run holds the folder's lock (nothing is created)."""
    import fcntl

    path = out / LOCK
    try:
        fh = open(path, encoding="utf-8")
    except OSError:
        return
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            holder = fh.read().strip() or "?"
            raise OutputLockedError(f"another run (pid {holder}) is writing to {out}; "
                                    "wait for it to finish or choose another --out") from None
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


#: the pages ``pipeline report`` writes under ``OUT/report/`` (:mod:`pipeline.report`
#: names its pages with these), and its document pages ``docs/<n>.html``
REPORT_PAGES = ("index.html", "documents.html")
REPORT_DOC_PAGE = re.compile(r"^\d+\.html$")


def _remove_report(folder: Path) -> None:
    """Remove the pages of a run's HTML report (nothing else), and its folders if that
    leaves them empty."""
    if not folder.is_dir() or folder.is_symlink():
        return
    docs = folder / "docs"
    if docs.is_dir() and not docs.is_symlink():
        for page in docs.iterdir():
            if REPORT_DOC_PAGE.match(page.name) and page.is_file() and not page.is_symlink():
                page.unlink()
        with contextlib.suppress(OSError):
            docs.rmdir()
    for name in REPORT_PAGES:
        page = folder / name
        if page.is_file() and not page.is_symlink():
            page.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


class RunFolder:
    """Holds an output folder for one run: lock, staging area, atomic publication.

    Use as a context manager after :func:`check_out_dir`::

        with RunFolder(out, fresh=force and not resume) as folder:
            ... write checkpoints under folder.work, tables under folder.staging ...
            folder.publish()
    """

    def __init__(self, out_dir: str | Path, *, fresh: bool = False):
        self.out = Path(out_dir)
        self.work = self.out / WORK
        self.staging = self.work / "next"
        self.fresh = fresh
        self._lock_fh = None
        self._created = False

    # -- lock ------------------------------------------------------------------------------
    def __enter__(self) -> "RunFolder":
        self._created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, f"cannot create the output folder {self.out}") from None
        self._lock()
        try:
            if self.fresh and self.work.exists():
                shutil.rmtree(self.work)  # our own checkpoints of an earlier, unfinished run
            if self.staging.exists():
                shutil.rmtree(self.staging)  # a half-staged run that never published
            self.work.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._unlock()
            raise os_error(exc, f"cannot prepare {self.work}") from None
        return self

    def __exit__(self, *exc) -> None:
        self._unlock()
        # leave no empty folders of ours behind (a run that failed before its first batch)
        for d in (self.staging, self.work) + ((self.out,) if self._created else ()):
            try:
                d.rmdir()
            except OSError:
                pass

    def _lock(self) -> None:
        import fcntl

        path = self.out / LOCK
        try:
            fh = open(path, "a+", encoding="utf-8")
        except OSError as exc:
            raise os_error(exc, f"cannot create the lock file {path}") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise OutputLockedError(f"another run (pid {holder}) is writing to {self.out}; "
                                    "wait for it to finish or choose another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._lock_fh = fh

    def _unlock(self) -> None:
        if self._lock_fh is None:
            return
        import fcntl

        try:
            (self.out / LOCK).unlink(missing_ok=True)
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._lock_fh.close()
            self._lock_fh = None

    # -- publication -----------------------------------------------------------------------
    def stage(self) -> Path:
        """The folder the complete run's files are written into before publication."""
        self.staging.mkdir(parents=True, exist_ok=True)
        return self.staging

    def publish(self, keep_work: bool = False) -> list[Path]:
        """Move every staged file into the output folder, replacing the previous run's
        files of the same names and removing the previous run's files the new run did not
        write (a format no longer asked for) and the previous run's HTML report (its pages
        describe tables that are gone; ``pipeline report`` writes a new one);
        ``manifest.json`` goes last, so a folder is only ever seen as a complete run.
        Files the pipeline does not write are untouched, in ``report/`` too."""
        staged = sorted(p.name for p in self.staging.iterdir() if p.is_file())
        unknown = [n for n in staged if n not in RUN_FILES]
        if unknown:  # a programming error, never user data
            raise PipelineError(f"refusing to publish files that are not run outputs: {unknown}")
        try:
            old_manifest = self.out / "manifest.json"
            if old_manifest.exists():
                old_manifest.unlink()  # the folder is not a complete run while files move
            for name in sorted(RUN_FILES - set(staged)):
                (self.out / name).unlink(missing_ok=True)
            _remove_report(self.out / "report")
            moved = []
            for name in sorted(staged, key=lambda n: n == "manifest.json"):
                os.replace(self.staging / name, self.out / name)
                moved.append(self.out / name)
            if not keep_work:
                shutil.rmtree(self.work, ignore_errors=True)
        except OSError as exc:
            raise os_error(exc, f"cannot publish the run into {self.out}") from None
        return moved

