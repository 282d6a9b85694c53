"""_lib.py — finds libmaif.so and declares its C API for ctypes.

Everything above this module speaks Python; everything in it mirrors
include/maif.h one to one (the header is the manual: read it for what each
call does). The library is loaded with ctypes.CDLL, which releases the GIL
for the length of every foreign call, so a long verify, convert or commit
in one thread does not stop the others.

Where the library is looked for, in order:
  1. the path in $MAIF_LIB;
  2. libmaif.so beside this package (an installed wheel-like layout);
  3. build/release/libmaif.so of the source tree this package sits in;
  4. the system's libmaif.so.0 (make install).
"""
import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char_p, c_int, c_int64, c_size_t, c_uint, c_uint8, c_uint32,
                    c_uint64, c_void_p)

ID_BYTES = 16
HASH_BYTES = 32
PUBKEY_BYTES = 32
SEED_BYTES = 32

# Error codes (MAIF_E* in maif.h).
OK = 0
EINVAL, ENOMEM, EIO, ENOTFOUND, EFORMAT, EVERSION, EVERIFY, ELOCKED = -1, -2, -3, -4, -5, -6, -7, -8
ESTATE, ELIMIT, EKEY, EJSON, EEXIST, EACCESS, EUNSUPPORTED = -9, -10, -11, -12, -13, -14, -15
ERROR_NAMES = {
    EINVAL: "MAIF_EINVAL", ENOMEM: "MAIF_ENOMEM", EIO: "MAIF_EIO", ENOTFOUND: "MAIF_ENOTFOUND",
    EFORMAT: "MAIF_EFORMAT", EVERSION: "MAIF_EVERSION", EVERIFY: "MAIF_EVERIFY", ELOCKED: "MAIF_ELOCKED",
    ESTATE: "MAIF_ESTATE", ELIMIT: "MAIF_ELIMIT", EKEY: "MAIF_EKEY", EJSON: "MAIF_EJSON", EEXIST: "MAIF_EEXIST",
    EACCESS: "MAIF_EACCESS", EUNSUPPORTED: "MAIF_EUNSUPPORTED",
}

# Options (MAIF_OPT_*), formats, codecs, ciphers, KDFs, severities.
OPT_THREADS, OPT_OVERWRITE, OPT_DURABLE, OPT_FORCE_RECOVER, OPT_CONVERT_FORCE = 1, 2, 3, 4, 5
OPT_TRUSTED_KEYS, OPT_CODEC, OPT_CODEC_LEVEL, OPT_LOCK_WAIT_MS = 6, 7, 8, 9
OPT_CONTENT_HASH = 20
HASHES = {"sha256": 0, "blake3": 1}
FORMAT_NATIVE, FORMAT_V21 = 1, 21
CODEC_NONE, CODEC_ZSTD, CODEC_LZ4 = 0, 1, 2
CIPHER_XCHACHA20, CIPHER_CHACHA20, CIPHER_AES256GCM = 1, 2, 3
KDF_ARGON2ID, KDF_PBKDF2 = 1, 2
SEV_INFO, SEV_WARNING, SEV_ERROR = 0, 1, 2
SHRED_PUNCH = 1
COMMIT_LAST = 2**64 - 1


class BlockSpec(Structure):
    _fields_ = [("type", c_uint32), ("payload", c_void_p), ("payload_size", c_size_t), ("meta_json", c_char_p),
                ("meta_size", c_size_t), ("supersedes", c_void_p), ("id", c_void_p), ("timestamp_us", c_uint64)]


class IdentityTrust(Structure):
    _fields_ = [("roots", c_char_p), ("roots_len", c_size_t), ("crls", c_char_p), ("crls_len", c_size_t),
                ("tsa_roots", c_char_p), ("tsa_roots_len", c_size_t)]


class KeystoreToken(Structure):
    _fields_ = [("module", c_char_p), ("token", c_char_p), ("pin", c_char_p)]


class Block(Structure):
    _fields_ = [("index", c_uint64), ("offset", c_uint64), ("type", c_uint32), ("flags", c_uint32),
                ("timestamp_us", c_uint64), ("id", c_uint8 * ID_BYTES), ("supersedes", c_uint8 * ID_BYTES),
                ("has_supersedes", c_int), ("payload", c_void_p), ("payload_size", c_size_t),
                ("meta", c_void_p), ("meta_size", c_size_t), ("content_hash", c_uint8 * HASH_BYTES),
                ("codec", c_uint8), ("cipher", c_uint8)]


class SearchHit(Structure):
    _fields_ = [("block", c_uint64), ("id", ctypes.c_uint8 * 16), ("type", c_uint32), ("timestamp_us", c_uint64),
                ("score", ctypes.c_double), ("embedding_block", c_int64), ("row", c_uint32),
                ("snippet", ctypes.c_void_p), ("snippet_size", c_size_t)]


class Info(Structure):
    _fields_ = [("format", c_int), ("version_major", c_uint), ("version_minor", c_uint), ("file_size", c_uint64),
                ("torn_bytes", c_uint64), ("block_count", c_uint64), ("commit_count", c_uint64),
                ("created_us", c_uint64), ("modified_us", c_uint64), ("file_id", c_uint8 * ID_BYTES),
                ("agent", c_char_p), ("signer", c_uint8 * PUBKEY_BYTES), ("merkle_root", c_uint8 * HASH_BYTES),
                ("converted_from", c_char_p)]


class Record(Structure):
    _fields_ = [("kind", c_char_p), ("offset", c_uint64), ("size", c_uint64), ("block_index", c_int64),
                ("type", c_uint32)]


class Finding(Structure):
    _fields_ = [("severity", c_int), ("code", c_char_p), ("section", c_char_p), ("block", c_int64),
                ("offset", c_int64), ("message", c_char_p)]


READ_FN = ctypes.CFUNCTYPE(c_int64, c_void_p, c_void_p, c_size_t)


def _candidates():
    env = os.environ.get("MAIF_LIB")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [os.path.join(here, "libmaif.so"),
           os.path.join(os.path.dirname(os.path.dirname(here)), "build", "release", "libmaif.so")]
    found = ctypes.util.find_library("maif")
    out.append(found or "libmaif.so.0")
    return out


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("maif: cannot load libmaif.so; set MAIF_LIB to its path or run `make`. Tried: "
                      + "; ".join(tried))


lib, LIB_PATH = _load()

# name: (restype, argtypes). Functions returning int codes use c_int.
_P = c_void_p
_U8P = POINTER(c_uint8)
_PROTOS = {
    "maif_version": (c_uint, []),
    "maif_version_string": (c_char_p, []),
    "maif_strerror": (c_char_p, [c_int]),
    "maif_last_errmsg": (c_char_p, []),
    "maif_type_parse": (c_int, [c_char_p, POINTER(c_uint32)]),
    "maif_type_name": (c_char_p, [c_uint32]),
    "maif_key_generate": (c_int, [POINTER(_P)]),
    "maif_key_from_seed": (c_int, [POINTER(_P), c_char_p]),
    "maif_key_save": (c_int, [_P, c_char_p]),
    "maif_key_load": (c_int, [POINTER(_P), c_char_p]),
    "maif_key_load_default": (c_int, [POINTER(_P), c_char_p, c_size_t]),
    "maif_key_public": (None, [_P, c_char_p]),
    "maif_key_free": (None, [_P]),
    "maif_pubkey_load": (c_int, [c_char_p, c_char_p]),
    "maif_options_create": (c_int, [POINTER(_P)]),
    "maif_options_free": (None, [_P]),
    "maif_options_set": (c_int, [_P, c_int, c_int64]),
    "maif_options_add_trusted_key": (c_int, [_P, c_char_p]),
    "maif_codec_parse": (c_int, [c_char_p, POINTER(c_int), POINTER(c_int)]),
    "maif_codec_name": (c_char_p, [c_int]),
    "maif_hash_name": (c_char_p, [c_int]),
    "maif_reader_content_hash": (c_int, [_P]),
    "maif_writer_create": (c_int, [POINTER(_P), c_char_p, _P, c_char_p, _P]),
    "maif_writer_open": (c_int, [POINTER(_P), c_char_p, _P, _P]),
    "maif_writer_add": (c_int, [_P, POINTER(BlockSpec), c_char_p]),
    "maif_writer_commit": (c_int, [_P]),
    "maif_writer_rollback": (c_int, [_P]),
    "maif_writer_count": (c_uint64, [_P]),
    "maif_writer_close": (c_int, [_P]),
    "maif_writer_set_codec": (c_int, [_P, c_int, c_int]),
    "maif_writer_errmsg": (c_char_p, [_P]),
    "maif_writer_encrypt": (c_int, [_P, _P, c_int]),
    "maif_writer_add_draft": (c_int, [_P, _P, READ_FN, _P, c_uint64, c_char_p]),
    "maif_block_draft_new": (c_int, [POINTER(_P), c_uint32, c_char_p, c_size_t]),
    "maif_block_draft_set_payload": (c_int, [_P, c_char_p, c_size_t]),
    "maif_block_draft_spec": (c_int, [_P, POINTER(BlockSpec)]),
    "maif_block_draft_free": (None, [_P]),
    "maif_reader_open": (c_int, [POINTER(_P), c_char_p]),
    "maif_reader_open_mem": (c_int, [POINTER(_P), c_char_p, c_size_t]),
    "maif_reader_close": (None, [_P]),
    "maif_reader_refresh": (c_int, [_P, POINTER(c_int)]),
    "maif_reader_errmsg": (c_char_p, [_P]),
    "maif_reader_format": (c_int, [_P]),
    "maif_reader_count": (c_uint64, [_P]),
    "maif_reader_block": (c_int, [_P, c_uint64, POINTER(Block)]),
    "maif_reader_block_decoded_size": (c_int, [_P, c_uint64, POINTER(c_size_t)]),
    "maif_reader_block_decode": (c_int, [_P, c_uint64, c_void_p, c_size_t, POINTER(c_size_t)]),
    "maif_reader_find": (c_int, [_P, c_char_p, POINTER(c_uint64)]),
    "maif_reader_history": (c_int, [_P, c_char_p, POINTER(c_uint64), c_size_t, POINTER(c_size_t)]),
    "maif_reader_info": (c_int, [_P, POINTER(Info)]),
    "maif_reader_record": (c_int, [_P, c_uint64, POINTER(Record)]),
    "maif_reader_set_keyring": (c_int, [_P, _P]),
    "maif_verify_file": (c_int, [c_char_p, _P, POINTER(_P)]),
    "maif_verify_mem": (c_int, [c_char_p, c_size_t, _P, POINTER(_P)]),
    "maif_report_ok": (c_int, [_P]),
    "maif_report_count": (c_size_t, [_P]),
    "maif_report_finding": (POINTER(Finding), [_P, c_size_t]),
    "maif_report_format": (c_int, [_P]),
    "maif_report_blocks": (c_uint64, [_P]),
    "maif_report_signer_count": (c_size_t, [_P]),
    "maif_report_signer": (c_int, [_P, c_size_t, c_char_p, POINTER(c_int)]),
    "maif_report_free": (None, [_P]),
    "maif_convert": (c_int, [c_char_p, c_char_p, c_int, _P, _P, POINTER(_P)]),
    "maif_keyring_create": (c_int, [POINTER(_P)]),
    "maif_keyring_free": (None, [_P]),
    "maif_keyring_add_recipient": (c_int, [_P, c_char_p]),
    "maif_keyring_add_identity": (c_int, [_P, _P]),
    "maif_keyring_add_passphrase": (c_int, [_P, c_char_p, c_size_t, c_int]),
    "maif_keyring_add_keystore": (c_int, [_P, _P]),
    "maif_keystore_open_token": (c_int, [POINTER(_P), c_char_p, c_char_p, POINTER(KeystoreToken), c_int]),
    "maif_keystore_close": (None, [_P]),
    "maif_keystore_count": (c_size_t, [_P]),
    "maif_keystore_rekey": (c_int, [_P]),
    "maif_keystore_shred": (c_int, [_P, _P, _P, POINTER(c_uint64), c_size_t, c_uint, POINTER(c_uint64)]),
    "maif_writer_encrypt_shreddable": (c_int, [_P, _P, c_int]),
    "maif_verify_chains_crl": (c_int, [c_char_p, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(_P)]),
    "maif_verify_identities": (c_int, [c_char_p, POINTER(IdentityTrust), POINTER(_P)]),
    "maif_timestamp_query": (c_int, [c_char_p, c_char_p, c_size_t, POINTER(c_size_t)]),
    "maif_writer_add_timestamp": (c_int, [_P, c_char_p, c_size_t, POINTER(c_uint64), c_char_p]),
    "maif_media_metadata": (c_int, [c_uint32, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(c_size_t)]),
    "maif_embed_file": (c_int, [c_char_p, c_char_p, _P, _P, POINTER(c_uint64)]),
    "maif_index_open": (c_int, [POINTER(_P), _P, c_char_p]),
    "maif_index_close": (None, [_P]),
    "maif_search_create": (c_int, [POINTER(_P)]),
    "maif_search_free": (None, [_P]),
    "maif_search_set": (c_int, [_P, c_int, c_int64]),
    "maif_search_set_text": (c_int, [_P, c_char_p, c_size_t]),
    "maif_search_run": (c_int, [_P, _P]),
    "maif_search_count": (c_size_t, [_P]),
    "maif_search_result": (c_int, [_P, c_size_t, POINTER(SearchHit)]),
    "maif_langid_load": (c_int, [POINTER(_P), c_char_p]),
    "maif_langid_free": (None, [_P]),
    "maif_text_language": (c_int, [_P, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(ctypes.c_double)]),
    "maif_vader_load": (c_int, [POINTER(_P), c_char_p]),
    "maif_vader_free": (None, [_P]),
    "maif_text_sentiment": (c_int, [_P, c_char_p, c_size_t, POINTER(ctypes.c_double * 4)]),
}

for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

del _name, _res, _args, _f


def text(b):
    """A C string from the library as str ('' for NULL)."""
    return b.decode("utf-8", "replace") if b else ""


def strerror(code):
    return text(lib.maif_strerror(code))


def last_errmsg():
    return text(lib.maif_last_errmsg())


def fspath(path):
    """A path argument as the bytes the C calls take."""
    return os.fsencode(path)
