"""errors.py — the library's error codes as Python exceptions.

Every failing call raises a MAIFError carrying the code (MAIF_E* of
maif.h) and the library's one-line message (the handle's message, else
maif_last_errmsg()). Codes that have a natural Python family also derive
from it, so `except FileNotFoundError` and `except PermissionError` work.
"""
from . import _lib


class MAIFError(Exception):
    """A libmaif call failed: .code is the MAIF_E* value, .name its name,
    .message the library's detailed message."""

    def __init__(self, code, message):
        self.code = code
        self.name = _lib.ERROR_NAMES.get(code, "MAIF_E?")
        self.message = message or _lib.strerror(code)
        Exception.__init__(self, self.message)

    def __str__(self):
        return self.message


class MAIFNotFoundError(MAIFError, FileNotFoundError):
    """No such file, block or id (MAIF_ENOTFOUND)."""


class MAIFFormatError(MAIFError, ValueError):
    """Not a MAIF file, or malformed (MAIF_EFORMAT, MAIF_EVERSION)."""


class MAIFValueError(MAIFError, ValueError):
    """Bad argument or bad JSON (MAIF_EINVAL, MAIF_EJSON, MAIF_ELIMIT)."""


class MAIFVerifyError(MAIFError):
    """Integrity or signature check failed (MAIF_EVERIFY)."""


class MAIFAccessError(MAIFError, PermissionError):
    """No usable key for an encrypted block, or a bad key (MAIF_EACCESS, MAIF_EKEY)."""


class MAIFLockedError(MAIFError):
    """Another writer holds the artifact (MAIF_ELOCKED)."""


class MAIFExistsError(MAIFError, FileExistsError):
    """The file exists (MAIF_EEXIST)."""


class MAIFUnsupportedError(MAIFError):
    """A feature present in the file that this library does not support (MAIF_EUNSUPPORTED)."""


class MAIFIOError(MAIFError, OSError):
    """An operating-system I/O error (MAIF_EIO)."""


_CLASSES = {
    _lib.ENOTFOUND: MAIFNotFoundError, _lib.EFORMAT: MAIFFormatError, _lib.EVERSION: MAIFFormatError,
    _lib.EINVAL: MAIFValueError, _lib.EJSON: MAIFValueError, _lib.ELIMIT: MAIFValueError,
    _lib.EVERIFY: MAIFVerifyError, _lib.EACCESS: MAIFAccessError, _lib.EKEY: MAIFAccessError,
    _lib.ELOCKED: MAIFLockedError, _lib.EEXIST: MAIFExistsError, _lib.EUNSUPPORTED: MAIFUnsupportedError,
    _lib.EIO: MAIFIOError,
}


def error(code, message=None):
    """The exception for a MAIF_E* code (message defaults to maif_last_errmsg)."""
    if message is None:
        message = _lib.last_errmsg()
    return _CLASSES.get(code, MAIFError)(code, message)


def check(rc, errmsg=None):
    """Raises for a negative return code; errmsg() gives the handle's message."""
    if rc < 0:
        msg = _lib.text(errmsg()) if errmsg else ""
        raise error(rc, msg or _lib.last_errmsg())
    return rc
