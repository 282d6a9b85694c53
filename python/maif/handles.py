"""handles.py — the C library's objects as Python context managers.

Key, Keyring, Writer and Reader own one C handle each and free it in
close() (also on `with` exit and, as a last resort, when collected).
Nothing borrowed from the library outlives the call that returned it:
payloads, metadata and messages are copied into Python objects at once, so
no Python value points into a reader's memory map after close().
"""
import ctypes
import functools
import json
import os
from ctypes import byref, c_int, c_size_t, c_uint32, c_uint64, c_void_p

from . import _lib
from ._lib import lib
from .errors import MAIFError, check, error

_CIPHERS = {
    "xchacha20-poly1305": _lib.CIPHER_XCHACHA20, "xchacha20": _lib.CIPHER_XCHACHA20,
    "chacha20-poly1305": _lib.CIPHER_CHACHA20, "chacha20": _lib.CIPHER_CHACHA20,
    "aes-256-gcm": _lib.CIPHER_AES256GCM, "aes-gcm": _lib.CIPHER_AES256GCM, "aes256gcm": _lib.CIPHER_AES256GCM,
    "aes256-gcm": _lib.CIPHER_AES256GCM,
}
_KDFS = {"argon2id": _lib.KDF_ARGON2ID, "pbkdf2": _lib.KDF_PBKDF2}
TYPE_EMBEDDING = 0x454D4244  # "EMBD"
_FORMATS = {"native": _lib.FORMAT_NATIVE, "v21": _lib.FORMAT_V21, "2.1": _lib.FORMAT_V21, "maif-2.1": _lib.FORMAT_V21}


def version():
    """The linked library's version string ("0.1.0")."""
    return _lib.text(lib.maif_version_string())


def cipher_id(name):
    """A MAIF_CIPHER_* id from a name ("xchacha20-poly1305", "chacha20-poly1305", "aes-256-gcm")."""
    if isinstance(name, int):
        return name
    try:
        return _CIPHERS[str(name).lower().replace("_", "-")]
    except KeyError:
        raise ValueError("unknown encryption algorithm %r; choose xchacha20-poly1305, chacha20-poly1305 or "
                         "aes-256-gcm" % (name,)) from None


def format_id(name):
    """MAIF_FORMAT_NATIVE or MAIF_FORMAT_V21 from "native" / "v21" (or the id)."""
    if isinstance(name, int):
        return name
    try:
        return _FORMATS[str(name).lower()]
    except KeyError:
        raise ValueError("unknown format %r; choose 'native' or 'v21'" % (name,)) from None


def parse_codec(spec):
    """(codec, level) from the CLI's --compress spelling ("zstd", "zstd:9", "lz4", "none")."""
    codec, level = c_int(), c_int()
    check(lib.maif_codec_parse(str(spec).encode(), byref(codec), byref(level)))
    return codec.value, level.value


class _Handle:
    """One owned C pointer; subclasses name the function that frees it."""
    _free = None

    def __init__(self):
        self._h = c_void_p()

    @property
    def closed(self):
        return not self._h

    def _live(self):
        if not self._h:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._h

    def close(self):
        if self._h:
            h, self._h = self._h, c_void_p()
            type(self)._free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ----------------------------------------------------------------- keys

class Key(_Handle):
    """An Ed25519 signing key (secret half in locked, wiped memory).

    Key.generate(), Key.load(path), Key.from_seed(32 bytes), Key.default();
    .public_key (32 bytes), .save(path)."""
    _free = staticmethod(lib.maif_key_free)

    @classmethod
    def generate(cls):
        k = cls()
        check(lib.maif_key_generate(byref(k._h)))
        return k

    @classmethod
    def load(cls, path):
        k = cls()
        check(lib.maif_key_load(byref(k._h), _lib.fspath(path)))
        return k

    @classmethod
    def from_seed(cls, seed):
        seed = bytes(seed)
        if len(seed) != _lib.SEED_BYTES:
            raise ValueError("an Ed25519 seed is %d bytes, not %d" % (_lib.SEED_BYTES, len(seed)))
        k = cls()
        check(lib.maif_key_from_seed(byref(k._h), seed))
        return k

    @classmethod
    def default(cls):
        """$MAIF_HOME/default.key (~/.maif/default.key), made on first use."""
        k = cls()
        buf = ctypes.create_string_buffer(4096)
        check(lib.maif_key_load_default(byref(k._h), buf, len(buf)))
        k.path = os.fsdecode(buf.value)
        return k

    def save(self, path):
        check(lib.maif_key_save(self._live(), _lib.fspath(path)))

    @property
    def public_key(self):
        out = ctypes.create_string_buffer(_lib.PUBKEY_BYTES)
        lib.maif_key_public(self._live(), out)
        return out.raw


def as_key(private_key):
    """A Key from what callers of the original pass as private_key: None (a
    fresh key, as the original did), a Key, a key file path, 32 seed bytes,
    or an object of Python's cryptography package (Ed25519PrivateKey)."""
    if private_key is None:
        return Key.generate()
    if isinstance(private_key, Key):
        return private_key
    if isinstance(private_key, (str, os.PathLike)):
        return Key.load(private_key)
    if isinstance(private_key, (bytes, bytearray, memoryview)):
        return Key.from_seed(private_key)
    raw = getattr(private_key, "private_bytes_raw", None)
    if raw is not None:
        return Key.from_seed(raw())
    if hasattr(private_key, "private_bytes"):
        from cryptography.hazmat.primitives import serialization as s
        return Key.from_seed(private_key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption()))
    raise TypeError("private_key must be a maif.Key, a key file path, 32 seed bytes or an Ed25519 private key")


def public_key_bytes(who):
    """32 public-key bytes from a Key, 32 bytes, or a key file path (.pub or secret)."""
    if isinstance(who, Key):
        return who.public_key
    if isinstance(who, (bytes, bytearray)) and len(who) == _lib.PUBKEY_BYTES:
        return bytes(who)
    if isinstance(who, str) and len(who) == 64 and all(c in "0123456789abcdefABCDEF" for c in who):
        return bytes.fromhex(who)
    out = ctypes.create_string_buffer(_lib.PUBKEY_BYTES)
    check(lib.maif_pubkey_load(_lib.fspath(who), out))
    return out.raw


class Keyring(_Handle):
    """Recipients to encrypt for, identities and passphrases to decrypt with."""
    _free = staticmethod(lib.maif_keyring_free)

    def __init__(self, recipients=(), identities=(), passphrases=(), kdf="argon2id"):
        super().__init__()
        check(lib.maif_keyring_create(byref(self._h)))
        for r in recipients:
            self.add_recipient(r)
        for i in identities:
            self.add_identity(i)
        for p in passphrases:
            self.add_passphrase(p, kdf)

    def add_recipient(self, who):
        check(lib.maif_keyring_add_recipient(self._live(), public_key_bytes(who)))

    def add_identity(self, key):
        key = key if isinstance(key, Key) else Key.load(key)
        check(lib.maif_keyring_add_identity(self._live(), key._live()))

    def add_passphrase(self, passphrase, kdf="argon2id"):
        b = passphrase.encode() if isinstance(passphrase, str) else bytes(passphrase)
        try:
            k = _KDFS[kdf] if isinstance(kdf, str) else int(kdf)
        except KeyError:
            raise ValueError("unknown kdf %r; choose argon2id or pbkdf2" % (kdf,)) from None
        check(lib.maif_keyring_add_passphrase(self._live(), b, len(b), k))

    def add_keystore(self, keystore):
        """Lets readers given this keyring open blocks whose keys keystore holds."""
        check(lib.maif_keyring_add_keystore(self._live(), keystore._live() if keystore else None))
        self._keystore = keystore  # the keystore must outlive the keyring's use of it


class Keystore(_Handle):
    """The keystore of shreddable blocks (crypto-shredding, FORMAT.md §5.10):
    data keys kept outside the artifact, sealed under a master key in
    master_path (by the CLI's convention $MAIF_HOME/masters/<file id>.master).

    Keystore(path, master_path, create=False, token=None). token, to keep
    the master key on a PKCS#11 token: {"module": path, "token": label,
    "pin": pin} when creating; {"pin": pin} opens one (the master file names
    module and token). len(ks) is the number of data keys; ks.rekey()
    replaces the master key; ks.shred(writer, [index, ...], punch=False)
    erases blocks of writer's artifact for good (a signed erasure record is
    committed first) and returns how many were erased."""
    _free = staticmethod(lib.maif_keystore_close)

    def __init__(self, path, master_path, create=False, token=None):
        super().__init__()
        self.path = os.fspath(path)
        tok = None
        if token is not None:
            def enc(v):
                return v.encode() if isinstance(v, str) else (bytes(v) if v is not None else None)
            tok = _lib.KeystoreToken(enc(token.get("module")), enc(token.get("token")), enc(token.get("pin")))
        check(lib.maif_keystore_open_token(byref(self._h), _lib.fspath(path), _lib.fspath(master_path),
                                           byref(tok) if tok is not None else None, 1 if create else 0))

    def __len__(self):
        return lib.maif_keystore_count(self._live())

    def rekey(self):
        check(lib.maif_keystore_rekey(self._live()))

    def shred(self, writer, blocks, punch=False):
        """Erases blocks (indices of writer's artifact, each sealed under a key
        of this keystore, with every block sealed under the same keys):
        commits a signed erasure record, destroys the keys and replaces the
        master key; punch also overwrites their ciphertext with zeros."""
        idx = [int(b) for b in blocks]
        arr = (c_uint64 * max(len(idx), 1))(*idx)
        erased = c_uint64()
        with Reader(writer.path) as r:
            check(lib.maif_keystore_shred(self._live(), r._live(), writer._live(), arr, len(idx),
                                          _lib.SHRED_PUNCH if punch else 0, byref(erased)), writer._err)
        return erased.value


class Options(_Handle):
    """maif_options from keyword settings (ids of maif.h)."""
    _free = staticmethod(lib.maif_options_free)

    def __init__(self, settings=None, trusted_keys=()):
        super().__init__()
        check(lib.maif_options_create(byref(self._h)))
        for opt, value in (settings or {}).items():
            check(lib.maif_options_set(self._h, opt, int(value)))
        for k in trusted_keys:
            check(lib.maif_options_add_trusted_key(self._h, public_key_bytes(k)))


def _meta_bytes(metadata):
    if metadata is None:
        return None
    if isinstance(metadata, (bytes, str)):
        return metadata.encode() if isinstance(metadata, str) else metadata
    if not isinstance(metadata, dict):
        raise TypeError("metadata must be a dict (a JSON object), not %s" % type(metadata).__name__)
    return json.dumps(metadata, ensure_ascii=False, allow_nan=False).encode()


def type_code(block_type):
    """A four-character block type as its number: an int, "TEXT", or a name such as "text"."""
    if isinstance(block_type, int):
        return int(block_type)
    out = c_uint32()
    check(lib.maif_type_parse(str(block_type).encode(), byref(out)))
    return out.value


@functools.lru_cache(maxsize=256)
def fourcc(code):
    """The four characters of a type code ('?' for bytes that are not printable ASCII)."""
    return "".join(chr(c) if 32 <= c < 127 else "?" for c in int(code).to_bytes(4, "big"))


# ---------------------------------------------------------------- writer

class Writer(_Handle):
    """A native artifact being written (maif_writer_create / _open).

    with Writer("a.maif", key, agent_id="bot") as w:   # create (mode="w")
        w.add("text", b"hello", {"k": 1})
    # commit on a clean exit, rollback if the block raised; close either way.
    Writer(path, key, mode="a") appends to an existing native artifact.
    content_hash: "sha256" (default) or "blake3", the new artifact's block
    hash (FORMAT.md §4; appending keeps the file's own).
    key: a maif.Key (or what as_key takes); None means Key.default(), the
    CLI's key in $MAIF_HOME."""
    _free = staticmethod(lib.maif_writer_close)

    def __init__(self, path, key=None, agent_id=None, mode="w", overwrite=False, durable=False, compress=None,
                 lock_wait_ms=0, content_hash="sha256"):
        super().__init__()
        self.path = os.fspath(path)
        self.key = key if isinstance(key, Key) else (Key.default() if key is None else as_key(key))
        settings = {_lib.OPT_OVERWRITE: bool(overwrite), _lib.OPT_DURABLE: bool(durable),
                    _lib.OPT_LOCK_WAIT_MS: int(lock_wait_ms)}
        if content_hash not in _lib.HASHES:
            raise ValueError("content_hash must be 'sha256' or 'blake3', not %r" % (content_hash,))
        settings[_lib.OPT_CONTENT_HASH] = _lib.HASHES[content_hash]
        if compress:
            codec, level = parse_codec(compress)
            settings[_lib.OPT_CODEC] = codec
            settings[_lib.OPT_CODEC_LEVEL] = level
        with Options(settings) as opt:
            if mode == "w":
                check(lib.maif_writer_create(byref(self._h), _lib.fspath(path), self.key._live(),
                                             agent_id.encode() if agent_id else None, opt._h))
            elif mode == "a":
                check(lib.maif_writer_open(byref(self._h), _lib.fspath(path), self.key._live(), opt._h))
            else:
                raise ValueError("mode must be 'w' (create) or 'a' (append)")

    def _err(self):
        return lib.maif_writer_errmsg(self._h)

    def add(self, block_type, payload, metadata=None, supersedes=None, block_id=None, timestamp_us=0):
        """Appends a block; returns its 16-byte id. payload: bytes or str (UTF-8)."""
        h = self._live()
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        payload = bytes(payload)
        meta = _meta_bytes(metadata)
        spec = _lib.BlockSpec()
        spec.type = type_code(block_type)
        # The library reads the payload during the call only: point at the
        # bytes object itself instead of copying it.
        spec.payload = ctypes.cast(ctypes.c_char_p(payload), c_void_p) if payload else None
        spec.payload_size = len(payload)
        spec.meta_json = meta
        spec.meta_size = len(meta) if meta else 0
        sup = ctypes.create_string_buffer(bytes(supersedes), 16) if supersedes else None
        bid = ctypes.create_string_buffer(bytes(block_id), 16) if block_id else None
        spec.supersedes = ctypes.cast(sup, c_void_p) if sup is not None else None
        spec.id = ctypes.cast(bid, c_void_p) if bid is not None else None
        spec.timestamp_us = int(timestamp_us)
        out = ctypes.create_string_buffer(_lib.ID_BYTES)
        check(lib.maif_writer_add(h, byref(spec), out), self._err)
        return out.raw

    def add_embeddings(self, rows, metadata=None, block_id=None, timestamp_us=0):
        """Appends an embedding block from rows of numbers (lists, tuples or a
        numpy array). The library checks every value is a finite float32 and
        merges {"count","dimensions","dtype"} into the metadata."""
        h = self._live()
        rows = _as_rows(rows)
        meta = _meta_bytes(metadata)
        draft = c_void_p()
        check(lib.maif_block_draft_new(byref(draft), TYPE_EMBEDDING, meta, len(meta) if meta else 0))
        try:
            text = json.dumps(rows, allow_nan=True).encode()
            check(lib.maif_block_draft_set_payload(draft, text, len(text)))
            spec = _lib.BlockSpec()
            check(lib.maif_block_draft_spec(draft, byref(spec)))
            bid = ctypes.create_string_buffer(bytes(block_id), 16) if block_id else None
            spec.id = ctypes.cast(bid, c_void_p) if bid is not None else None
            spec.timestamp_us = int(timestamp_us)
            out = ctypes.create_string_buffer(_lib.ID_BYTES)
            check(lib.maif_writer_add(h, byref(spec), out), self._err)
            return out.raw
        finally:
            lib.maif_block_draft_free(draft)

    def set_compression(self, spec):
        codec, level = parse_codec(spec)
        check(lib.maif_writer_set_codec(self._live(), codec, level), self._err)

    def encrypt(self, keyring, algorithm="xchacha20-poly1305"):
        """Seals the blocks added from now on for keyring's recipients and passphrases."""
        check(lib.maif_writer_encrypt(self._live(), keyring._live(), cipher_id(algorithm)), self._err)
        self._keyring = keyring  # the keyring must outlive the writer

    def encrypt_shreddable(self, keystore, algorithm="xchacha20-poly1305"):
        """Seals the blocks added from now on under a fresh data key kept in
        keystore only (never in the artifact): Keystore.shred erases them.
        Call it before each block that must be erasable on its own."""
        check(lib.maif_writer_encrypt_shreddable(self._live(), keystore._live(), cipher_id(algorithm)), self._err)
        self._keystore = keystore  # the keystore must outlive the writer

    def add_timestamp(self, response):
        """Stores a time-stamp authority's answer (DER response or token) to
        a request from timestamp_query(); returns (block id, stamped commit)."""
        data = bytes(response)
        seq = c_uint64()
        out = ctypes.create_string_buffer(_lib.ID_BYTES)
        check(lib.maif_writer_add_timestamp(self._live(), data, len(data), byref(seq), out), self._err)
        return out.raw, seq.value

    def commit(self):
        check(lib.maif_writer_commit(self._live()), self._err)

    def rollback(self):
        check(lib.maif_writer_rollback(self._live()), self._err)

    def __len__(self):
        return lib.maif_writer_count(self._live())

    def close(self):
        """Rolls back anything uncommitted and frees; raises the first error met."""
        if self._h:
            h, self._h = self._h, c_void_p()
            rc = lib.maif_writer_close(h)
            if rc < 0:
                raise error(rc)

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            if self._h:
                self.commit()
            self.close()
            return
        try:
            self.close()  # rolls back; the exception in flight is the one to see
        except MAIFError:
            pass


def _as_rows(rows):
    if hasattr(rows, "tolist"):
        rows = rows.tolist()
    rows = list(rows)
    if not rows:
        raise ValueError("embeddings: at least one vector is needed")
    if not isinstance(rows[0], (list, tuple)) and not hasattr(rows[0], "tolist"):
        rows = [rows]
    return [[float(v) for v in (r.tolist() if hasattr(r, "tolist") else r)] for r in rows]


# ---------------------------------------------------------------- reader

class BlockView:
    """A block as read: every field copied out of the reader."""
    __slots__ = ("index", "offset", "type", "flags", "timestamp_us", "id", "supersedes", "payload_size", "meta",
                 "content_hash", "codec", "cipher")

    def __init__(self, b):
        self.index = b.index
        self.offset = b.offset
        self.type = b.type
        self.flags = b.flags
        self.timestamp_us = b.timestamp_us
        self.id = bytes(b.id)
        self.supersedes = bytes(b.supersedes) if b.has_supersedes else None
        self.payload_size = b.payload_size
        self.meta = ctypes.string_at(b.meta, b.meta_size).decode("utf-8") if b.meta else None
        self.content_hash = bytes(b.content_hash)
        self.codec = b.codec
        self.cipher = b.cipher

    @property
    def fourcc(self):
        return fourcc(self.type)

    @property
    def metadata(self):
        return json.loads(self.meta) if self.meta else None


class Reader(_Handle):
    """An artifact of either format opened for reading (maif_reader_open).

    len(r), r.block(i) -> BlockView, r.read(i) -> decoded payload bytes,
    r.info() -> dict, r.records(), r.find(id), r.history(id), r.refresh()."""
    _free = staticmethod(lib.maif_reader_close)

    def __init__(self, path=None, data=None, keyring=None):
        super().__init__()
        if data is not None:
            self._buf = bytes(data)  # the reader borrows it: keep it alive
            check(lib.maif_reader_open_mem(byref(self._h), self._buf, len(self._buf)))
            self.path = None
        else:
            self.path = os.fspath(path)
            check(lib.maif_reader_open(byref(self._h), _lib.fspath(path)))
        self.keyring = None
        if keyring is not None:
            self.set_keyring(keyring)

    def _err(self):
        return lib.maif_reader_errmsg(self._h)

    def set_keyring(self, keyring):
        check(lib.maif_reader_set_keyring(self._live(), keyring._live() if keyring else None), self._err)
        self.keyring = keyring  # the keyring must outlive the reader

    @property
    def format(self):
        return "v21" if lib.maif_reader_format(self._live()) == _lib.FORMAT_V21 else "native"

    def __len__(self):
        return lib.maif_reader_count(self._live())

    def block(self, i):
        b = _lib.Block()
        check(lib.maif_reader_block(self._live(), int(i), byref(b)), self._err)
        return BlockView(b)

    def read(self, i):
        """Block i's payload, decompressed and decrypted."""
        h = self._live()
        n = c_size_t()
        check(lib.maif_reader_block_decoded_size(h, int(i), byref(n)), self._err)
        buf = ctypes.create_string_buffer(max(n.value, 1))
        w = c_size_t()
        check(lib.maif_reader_block_decode(h, int(i), buf, n.value, byref(w)), self._err)
        return buf.raw[:w.value]

    def find(self, block_id):
        out = c_uint64()
        check(lib.maif_reader_find(self._live(), _id_bytes(block_id), byref(out)), self._err)
        return out.value

    def history(self, block_id):
        """Indices of every version of the item block_id belongs to, oldest first."""
        h, bid, n = self._live(), _id_bytes(block_id), c_size_t()
        check(lib.maif_reader_history(h, bid, None, 0, byref(n)), self._err)
        arr = (c_uint64 * max(n.value, 1))()
        check(lib.maif_reader_history(h, bid, arr, n.value, byref(n)), self._err)
        return list(arr[:n.value])

    def info(self):
        inf = _lib.Info()
        check(lib.maif_reader_info(self._live(), byref(inf)), self._err)
        return {
            "format": "v21" if inf.format == _lib.FORMAT_V21 else "native",
            "version": "%d.%d" % (inf.version_major, inf.version_minor),
            "file_size": inf.file_size, "torn_bytes": inf.torn_bytes, "block_count": inf.block_count,
            "commit_count": inf.commit_count, "created_us": inf.created_us, "modified_us": inf.modified_us,
            "file_id": bytes(inf.file_id).hex(), "agent": _lib.text(inf.agent),
            "signer": bytes(inf.signer).hex(), "merkle_root": bytes(inf.merkle_root).hex(),
            "converted_from": _lib.text(inf.converted_from),
            "content_hash": lib.maif_hash_name(lib.maif_reader_content_hash(self._live())).decode(),
        }

    def records(self):
        """Every record of the file: (kind, offset, size, block_index, fourcc)."""
        h, out, i = self._live(), [], 0
        rec = _lib.Record()
        while True:
            rc = lib.maif_reader_record(h, i, byref(rec))
            if rc == _lib.ENOTFOUND:
                return out
            check(rc, self._err)
            out.append((_lib.text(rec.kind), rec.offset, rec.size, rec.block_index, fourcc(rec.type)))
            i += 1

    def refresh(self):
        """Switches to the file's latest commit; True if it changed."""
        changed = c_int()
        check(lib.maif_reader_refresh(self._live(), byref(changed)), self._err)
        return bool(changed.value)


def _id_bytes(block_id):
    if isinstance(block_id, str):
        block_id = bytes.fromhex(block_id)
    if len(block_id) != _lib.ID_BYTES:
        raise ValueError("a block id is 16 bytes (32 hex digits)")
    return bytes(block_id)


# -------------------------------------------------------------- verifier

class Finding:
    __slots__ = ("severity", "code", "section", "block", "offset", "message")
    _SEV = {0: "info", 1: "warning", 2: "error"}

    def __init__(self, f):
        self.severity = self._SEV.get(f.severity, "error")
        self.code = _lib.text(f.code)
        self.section = _lib.text(f.section)
        self.block = f.block
        self.offset = f.offset
        self.message = _lib.text(f.message)

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return "<Finding %s %s: %s>" % (self.severity, self.code, self.message)


class Report:
    """A verification verdict: .ok, .format, .blocks, .findings, .signers
    [(public key bytes, pinned)], .errors (the error findings' messages)."""

    def __init__(self, h):
        try:
            self.ok = bool(lib.maif_report_ok(h))
            fmt = lib.maif_report_format(h)
            self.format = {_lib.FORMAT_V21: "v21", _lib.FORMAT_NATIVE: "native"}.get(fmt, "unknown")
            self.blocks = lib.maif_report_blocks(h)
            self.findings = [Finding(lib.maif_report_finding(h, i).contents)
                             for i in range(lib.maif_report_count(h))]
            self.signers = []
            for i in range(lib.maif_report_signer_count(h)):
                pk, pinned = ctypes.create_string_buffer(_lib.PUBKEY_BYTES), c_int()
                check(lib.maif_report_signer(h, i, pk, byref(pinned)))
                self.signers.append((pk.raw, bool(pinned.value)))
        finally:
            lib.maif_report_free(h)

    @property
    def errors(self):
        return [f.message for f in self.findings if f.severity == "error"]

    @property
    def tampered_blocks(self):
        return sorted({f.block for f in self.findings if f.severity == "error" and f.block >= 0})

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "<Report ok=%s format=%s blocks=%d findings=%d>" % (self.ok, self.format, self.blocks,
                                                                    len(self.findings))


def verify(path=None, data=None, threads=0, trusted_keys=()):
    """Verifies every byte of an artifact (file or bytes); returns a Report.
    trusted_keys pins the signers (keys, 32-byte public keys or .pub paths)."""
    h = c_void_p()
    with Options({_lib.OPT_THREADS: threads}, trusted_keys) as opt:
        if data is not None:
            data = bytes(data)
            check(lib.maif_verify_mem(data, len(data), opt._h, byref(h)))
        else:
            check(lib.maif_verify_file(_lib.fspath(path), opt._h, byref(h)))
    return Report(h)


def _pem_or_path(x):
    if x is None or isinstance(x, (bytes, bytearray)):
        return None if x is None else bytes(x)
    with open(x, "rb") as f:
        return f.read()


def verify_identities(path, roots=None, crls=None, tsa_roots=None):
    """Checks signer identities and trusted timestamps (docs/IDENTITIES.md):
    with roots (CA roots: bytes or a path), every commit's signer's
    certificate chain at the commit's time, with crls their revocation; with
    tsa_roots, every RFC 3161 token (Writer.add_timestamp). Returns a Report
    of identity-* and timestamp* findings (run verify() for integrity)."""
    r, c, t = _pem_or_path(roots), _pem_or_path(crls), _pem_or_path(tsa_roots)
    trust = _lib.IdentityTrust(r, len(r) if r else 0, c, len(c) if c else 0, t, len(t) if t else 0)
    h = c_void_p()
    check(lib.maif_verify_identities(_lib.fspath(path), byref(trust), byref(h)))
    return Report(h)


def verify_chains(path, roots, crls=None):
    """verify_identities(path, roots, crls): certificate chains and CRLs."""
    return verify_identities(path, roots=roots, crls=crls)


def timestamp_query(path):
    """The DER RFC 3161 request for the last commit of the artifact at path:
    send it to a time-stamp authority, then Writer.add_timestamp its answer."""
    buf = ctypes.create_string_buffer(4096)
    n = c_size_t()
    check(lib.maif_timestamp_query(_lib.fspath(path), buf, len(buf), byref(n)))
    return buf.raw[:n.value]


def convert(src, dst, to="native", key=None, force=False, threads=0, trusted_keys=()):
    """Converts src to format `to` ("native" or "v21") at dst, signed by key
    (default: the default key). The source is verified first; returns its
    Report. Raises MAIFVerifyError if it does not verify, unless force."""
    k = Key.default() if key is None else as_key(key)
    h = c_void_p()
    with Options({_lib.OPT_THREADS: threads, _lib.OPT_CONVERT_FORCE: bool(force)}, trusted_keys) as opt:
        rc = lib.maif_convert(_lib.fspath(src), _lib.fspath(dst), format_id(to), k._live(), opt._h, byref(h))
    msg = _lib.last_errmsg() if rc < 0 else ""
    rep = Report(h) if h else None
    if rc < 0:
        raise error(rc, msg)
    return rep


__all__ = ["Key", "Keyring", "Writer", "Reader", "BlockView", "Report", "Finding", "verify", "convert", "version",
           "as_key", "MAIFError"]
