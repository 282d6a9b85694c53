// errors.js: the library's error codes as JavaScript Error subclasses.
//
// Every failing call throws a MaifError carrying .code (the MAIF_E* value
// of maif.h), .name of the code and the library's one-line message (the
// handle's message, else maif_last_errmsg()). Codes with a natural family
// get a subclass, so callers can test `instanceof MaifNotFoundError`.
import { E, ERROR_NAMES, lastErrmsg, strerror } from './lib.js';

export class MaifError extends Error {
  constructor(code, message) {
    super(message || strerror(code) || `maif error ${code}`);
    this.name = this.constructor.name;
    this.code = code;
    this.codeName = ERROR_NAMES[code] || 'MAIF_E?';
  }
}
/** No such file, block or id (MAIF_ENOTFOUND). */
export class MaifNotFoundError extends MaifError {}
/** Not a MAIF file, or malformed (MAIF_EFORMAT, MAIF_EVERSION). */
export class MaifFormatError extends MaifError {}
/** Bad argument, bad JSON, or a limit (MAIF_EINVAL, MAIF_EJSON, MAIF_ELIMIT). */
export class MaifValueError extends MaifError {}
/** Integrity or signature check failed (MAIF_EVERIFY). */
export class MaifVerifyError extends MaifError {}
/** No usable key, or a bad key file (MAIF_EACCESS, MAIF_EKEY). */
export class MaifAccessError extends MaifError {}
/** Another writer holds the artifact (MAIF_ELOCKED). */
export class MaifLockedError extends MaifError {}
/** The file exists (MAIF_EEXIST). */
export class MaifExistsError extends MaifError {}
/** A feature present in the file this library does not support (MAIF_EUNSUPPORTED). */
export class MaifUnsupportedError extends MaifError {}
/** An operating-system I/O error (MAIF_EIO). */
export class MaifIOError extends MaifError {}
/** A call not valid in this state (MAIF_ESTATE). */
export class MaifStateError extends MaifError {}

const CLASSES = {
  [E.ENOTFOUND]: MaifNotFoundError, [E.EFORMAT]: MaifFormatError, [E.EVERSION]: MaifFormatError,
  [E.EINVAL]: MaifValueError, [E.EJSON]: MaifValueError, [E.ELIMIT]: MaifValueError,
  [E.EVERIFY]: MaifVerifyError, [E.EACCESS]: MaifAccessError, [E.EKEY]: MaifAccessError,
  [E.ELOCKED]: MaifLockedError, [E.EEXIST]: MaifExistsError, [E.EUNSUPPORTED]: MaifUnsupportedError,
  [E.EIO]: MaifIOError, [E.ESTATE]: MaifStateError,
};

/** The Error for a MAIF_E* code; message defaults to maif_last_errmsg(). */
export function error(code, message) {
  const Cls = CLASSES[code] || MaifError;
  return new Cls(code, message === undefined ? lastErrmsg() : message);
}

/** Throws for a negative return code; errmsg() gives the handle's message. */
export function check(rc, errmsg) {
  if (rc < 0) {
    const msg = (errmsg && errmsg()) || lastErrmsg();
    throw error(rc, msg);
  }
  return rc;
}
