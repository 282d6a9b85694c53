"""sdk.py — the client/artifact SDK of the MAIF architecture, over libmaif.

    client = create_client("agent-7", enable_compression=True)
    art = create_artifact("notes", client)
    art.add_text("The meeting moved to Tuesday.", language="en")
    art.add_embedding([0.1, 0.9, 0.2], model="mini", normalize=True)
    art.save("notes.maif")
    again = Artifact.load("notes.maif", client)   # verified first

Every client option maps onto something libmaif does (semantic search,
language detection, sentiment analysis and image features included); an
unknown option raises TypeError, so nothing is silently ignored.
"""
import collections
import ctypes
import math
import os
import shutil
import struct
import threading

from . import _lib
from ._compat import BlockType
from .errors import MAIFError, error
from .handles import Key, Keyring, Reader, Writer, as_key, cipher_id, convert, parse_codec, verify



def media_metadata(block_type, data):
    """The features libmaif computes for an image or a WAV (a dict)."""
    import json
    t = int(block_type)
    n = ctypes.c_size_t(0)
    rc = _lib.lib.maif_media_metadata(t, data, len(data), None, 0, ctypes.byref(n))
    if rc != -10 or n.value == 0:  # MAIF_ELIMIT with the size needed, else the analysis failed
        raise error(rc if rc < 0 else -1)
    buf = ctypes.create_string_buffer(n.value + 1)
    rc = _lib.lib.maif_media_metadata(t, data, len(data), buf, n.value + 1, ctypes.byref(n))
    if rc < 0:
        raise error(rc)
    return json.loads(buf.value.decode("utf-8"))


def _model_file(env, name):
    """Where the CLI finds a model (tools/analyze.c): $ENV, else NAME in
    $MAIF_MODELS, $MAIF_CACHE/models, ${XDG_CACHE_HOME:-~/.cache}/maif/models."""
    e = os.environ
    if e.get(env):
        return e[env]
    if e.get("MAIF_MODELS"):
        return os.path.join(e["MAIF_MODELS"], name)
    if e.get("MAIF_CACHE"):
        return os.path.join(e["MAIF_CACHE"], "models", name)
    base = e.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "maif", "models", name)


class _TextAnalyzer:
    """fastText lid.176 and the VADER lexicon, loaded once on first use."""

    def __init__(self):
        self._lid = None
        self._vader = None
        self._lock = threading.Lock()

    def _load(self, attr, fn, env, name):
        with self._lock:
            if getattr(self, attr) is None:
                h = ctypes.c_void_p()
                path = _model_file(env, name)
                rc = fn(ctypes.byref(h), path.encode())
                if rc < 0:
                    raise error(rc, "%s: %s (scripts/fetch-lid.sh fetches it; or set %s)"
                                % (path, _lib.last_errmsg(), env))
                setattr(self, attr, h)
            return getattr(self, attr)

    def language(self, text):
        h = self._load("_lid", _lib.lib.maif_langid_load, "MAIF_LID_MODEL", "lid.176.ftz")
        b = text.encode("utf-8")
        label = ctypes.create_string_buffer(64)
        conf = ctypes.c_double()
        rc = _lib.lib.maif_text_language(h, b, len(b), label, 64, ctypes.byref(conf))
        if rc < 0:
            raise error(rc)
        return label.value.decode(), round(conf.value, 6)

    def sentiment(self, text):
        h = self._load("_vader", _lib.lib.maif_vader_load, "MAIF_VADER_LEXICON", "vader_lexicon.txt")
        b = text.encode("utf-8")
        out = (ctypes.c_double * 4)()
        rc = _lib.lib.maif_text_sentiment(h, b, len(b), ctypes.byref(out))
        if rc < 0:
            raise error(rc)
        return {"neg": out[0], "neu": out[1], "pos": out[2], "compound": out[3]}

    def close(self):
        if self._lid is not None:
            _lib.lib.maif_langid_free(self._lid)
        if self._vader is not None:
            _lib.lib.maif_vader_free(self._vader)
        self._lid = self._vader = None

    __del__ = close


class MAIFClient:
    """Holds an agent's identity and settings; creates, saves and loads artifacts.

    Options (create_client(agent_id, **options)):
      key / private_key       signing key (maif.Key, key file path, seed bytes);
                              default: $MAIF_HOME/default.key, as the CLI uses
      max_concurrent_writers  artifacts this client writes at once (default 4);
                              one artifact file admits one writer at a time,
                              later ones wait up to lock_wait_ms
      lock_wait_ms            wait for another writer's lock (default 10000)
      cache_size              decoded block payloads kept in memory, LRU
                              (entries, default 256; 0 turns it off)
      enable_compression      zstd (level 3) for new blocks (default False)
      compression             "zstd", "zstd:N", "zstd:fast", "lz4", "none"
      encryption_algorithm    "xchacha20-poly1305", "chacha20-poly1305",
                              "aes-256-gcm" or None (default): seals blocks
                              for recipients / passphrase, else for the
                              client's own key
      recipients              public keys (maif.Key, 32 bytes, .pub paths)
      passphrase, kdf         a passphrase ("argon2id" default, or "pbkdf2")
      identities              extra secret keys that open encrypted blocks
      require_signatures      verify every artifact before loading it
                              (default True); trusted_keys pins the signers
      trusted_keys            public keys every signer must be one of
      durable                 fsync every save (default False)
      format                  "native" (default) or "v21" for new files
      enable_semantic_search  save() also embeds the new texts (maif_embed_file,
                              the built-in hashed embedder) so search(text) finds
                              them by meaning as well as by words
      language_detection      the default of add_text(language="auto")
      sentiment_analysis      the default of add_text(sentiment_analysis=)
                              (fastText lid.176 and VADER: docs/UNDERSTANDING.md)
      extract_features        the default of Artifact.add_image(extract_features=):
                              store the image's features (docs/MEDIA.md)
    """

    _DEFAULTS = {
        "key": None, "private_key": None, "max_concurrent_writers": 4, "lock_wait_ms": 10000, "cache_size": 256,
        "enable_compression": False, "compression": None, "encryption_algorithm": None, "recipients": (),
        "passphrase": None, "kdf": "argon2id", "identities": (), "require_signatures": True, "trusted_keys": (),
        "durable": False, "format": "native", "enable_semantic_search": False, "language_detection": False,
        "sentiment_analysis": False, "extract_features": False,
    }

    def __init__(self, agent_id, **options):
        unknown = sorted(set(options) - set(self._DEFAULTS))
        if unknown:
            raise TypeError("create_client: unknown option(s) %s; known: %s"
                            % (", ".join(unknown), ", ".join(sorted(self._DEFAULTS))))
        o = dict(self._DEFAULTS, **options)
        self.agent_id = agent_id
        self.options = o
        self._analyzer = _TextAnalyzer()
        k = o["key"] if o["key"] is not None else o["private_key"]
        self.key = Key.default() if k is None else as_key(k)
        n = int(o["max_concurrent_writers"])
        if n < 1:
            raise ValueError("max_concurrent_writers must be at least 1")
        self._writers = threading.BoundedSemaphore(n)
        self.lock_wait_ms = int(o["lock_wait_ms"])
        self.cache_size = int(o["cache_size"])
        if self.cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._cache = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        comp = o["compression"] or ("zstd" if o["enable_compression"] else None)
        if comp:
            parse_codec(comp)  # a bad spelling fails here, with the library's list of choices
        self.compression = comp
        self.cipher = cipher_id(o["encryption_algorithm"]) if o["encryption_algorithm"] else 0
        self.format = o["format"]
        if self.format not in ("native", "v21"):
            raise ValueError("format must be 'native' or 'v21'")
        if self.cipher and self.format == "v21":
            raise ValueError("MAIF 2.1 files cannot hold encrypted blocks; use format='native'")
        self.require_signatures = bool(o["require_signatures"])
        self.trusted_keys = tuple(o["trusted_keys"])
        self.durable = bool(o["durable"])
        # One keyring: the recipients new blocks are sealed for, and what opens them.
        self.keyring = Keyring()
        self.keyring.add_identity(self.key)
        for i in o["identities"]:
            self.keyring.add_identity(i)
        self._has_recipient = False
        for r in o["recipients"]:
            self.keyring.add_recipient(r)
            self._has_recipient = True
        if o["passphrase"] is not None:
            self.keyring.add_passphrase(o["passphrase"], o["kdf"])
            self._has_recipient = True
        if self.cipher and not self._has_recipient:
            self.keyring.add_recipient(self.key)

    def create_artifact(self, name):
        return Artifact(name, self)

    def load_artifact(self, path):
        return Artifact.load(path, self)

    # -- the payload cache (keyed by file identity and block index; artifacts only grow)
    def _cache_get(self, key):
        with self._cache_lock:
            v = self._cache.get(key)
            if v is not None:
                self._cache.move_to_end(key)
            return v

    def _cache_put(self, key, value):
        if self.cache_size == 0:
            return
        with self._cache_lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def close(self):
        self.keyring.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def create_client(agent_id, **options):
    """A MAIFClient for agent_id (see MAIFClient for the options)."""
    return MAIFClient(agent_id, **options)


def create_artifact(name, client=None):
    """A new, empty artifact; client defaults to create_client(name)."""
    return Artifact(name, client if client is not None else create_client(name))


def _sniff_image(data):
    for magic, fmt in ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"),
                       (b"BM", "bmp")):
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class Artifact:
    """Blocks added to an artifact are pending until save(); a loaded
    artifact appends to its file."""

    def __init__(self, name, client):
        self.name = name
        self.client = client
        self.path = None
        self._pending = []  # dicts: type, payload, metadata, id
        self._reader = None

    # -- adding
    def _add(self, btype, payload, metadata, rows=None):
        bid = os.urandom(_lib.ID_BYTES)
        self._pending.append({"type": btype, "payload": payload, "metadata": metadata, "rows": rows, "id": bid})
        return bid.hex()

    def add_text(self, text, title=None, language=None, sentiment_analysis=None, metadata=None):
        """Adds text. language is stored as the tag given ("en"), or detected
        with fastText's lid.176 when "auto" (then "language" and
        "language_confidence" are stored); sentiment_analysis=True stores
        VADER's "sentiment" {compound, neg, neu, pos}. Both default to the
        client's language_detection / sentiment_analysis options. The models
        are found as the CLI finds them (docs/UNDERSTANDING.md)."""
        if not isinstance(text, str):
            raise TypeError("text must be str")
        opts = self.client.options
        if language is None and opts["language_detection"]:
            language = "auto"
        if sentiment_analysis is None:
            sentiment_analysis = opts["sentiment_analysis"]
        found = {}
        if language == "auto":
            found["language"], found["language_confidence"] = self.client._analyzer.language(text)
            language = None
        if sentiment_analysis:
            found["sentiment"] = self.client._analyzer.sentiment(text)
        meta = dict(found, **(metadata or {}))
        if title is not None:
            meta["title"] = title
        if language is not None:
            meta["language"] = language
        return self._add(BlockType.TEXT, text.encode("utf-8"), meta or None)

    def add_image(self, data, format=None, extract_features=None, metadata=None):
        """Adds image bytes (or a path to them); format ("png", ...) is stored,
        sniffed from the bytes when not given. extract_features=True stores
        what maif_media_metadata computes (PNG and JPEG: width, height,
        phash, phash_content, dhash, color_histogram, hog); keys given in
        metadata win. A damaged or unsupported image then raises MAIFError."""
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as f:
                data = f.read()
        data = bytes(data)
        meta = {}
        if extract_features is None:
            extract_features = self.client.options["extract_features"]
        if extract_features:
            meta.update(media_metadata(BlockType.IMAGE, data))
        meta.update(metadata or {})
        fmt = format or _sniff_image(data)
        if fmt:
            meta["format"] = fmt
        return self._add(BlockType.IMAGE, data, meta or None)

    def add_embedding(self, vector, model=None, normalize=False, metadata=None):
        """Adds one vector (list of numbers or a numpy array); normalize=True
        scales it to unit length first; model is stored in the metadata."""
        v = [float(x) for x in (vector.tolist() if hasattr(vector, "tolist") else vector)]
        if not v:
            raise ValueError("an embedding needs at least one value")
        if normalize:
            n = math.sqrt(sum(x * x for x in v))
            if n == 0 or not math.isfinite(n):
                raise ValueError("cannot normalize a zero or non-finite vector")
            v = [x / n for x in v]
        meta = dict(metadata or {})
        if model is not None:
            meta["model"] = model
        if normalize:
            meta["normalized"] = True
        return self._add(BlockType.EMBEDDINGS, None, meta or None, rows=[v])

    def add_data(self, data, block_type="binary", metadata=None):
        """Adds bytes as a block of any type (a name, "ABCD" or a BlockType)."""
        return self._add(block_type, bytes(data), metadata)

    # -- saving
    def _write_blocks(self, w):
        if self.client.cipher:
            w.encrypt(self.client.keyring, self.client.cipher)
        for p in self._pending:
            if p["rows"] is not None:
                w.add_embeddings(p["rows"], p["metadata"], block_id=p["id"])
            else:
                w.add(p["type"], p["payload"], p["metadata"], block_id=p["id"])

    def save(self, path=None):
        """Writes the pending blocks, signed, in one commit; returns the path.
        A new artifact replaces the file at path. One already saved or
        loaded appends to its file; given another path, its file is copied
        there first and the copy is appended to. Raises MAIFError with the
        library's message."""
        path = os.fspath(path) if path is not None else self.path
        if path is None:
            raise ValueError("save: no path (the artifact was never saved or loaded)")
        c = self.client
        append = self.path is not None and os.path.exists(self.path)
        if append and os.path.abspath(path) != os.path.abspath(self.path):
            shutil.copyfile(self.path, path)  # save-as: the saved blocks go along, signatures intact
        kw = dict(durable=c.durable, compress=c.compression, lock_wait_ms=c.lock_wait_ms)
        with c._writers:
            self._close_reader()
            if c.format == "v21" or (append and _is_v21(path)):
                self._save_v21(path, append, kw)
            else:
                with Writer(path, c.key, agent_id=c.agent_id, mode="a" if append else "w", overwrite=True,
                            **kw) as w:
                    self._write_blocks(w)
        self.path = path
        self._pending = []
        if c.options["enable_semantic_search"] and not _is_v21(path):
            added = ctypes.c_uint64()
            rc = _lib.lib.maif_embed_file(path.encode(), b"hashed", c.key._live(), None, ctypes.byref(added))
            if rc < 0:
                raise error(rc)
        return path

    def _save_v21(self, path, append, kw):
        c = self.client
        d, base = os.path.split(os.path.abspath(path))
        tmp = os.path.join(d, ".%s.%d.%s.tmp" % (base, os.getpid(), os.urandom(4).hex()))
        try:
            if append:
                convert(path, tmp, "native", key=c.key, trusted_keys=c.trusted_keys)
            with Writer(tmp, c.key, agent_id=c.agent_id, mode="a" if append else "w", overwrite=True, **kw) as w:
                self._write_blocks(w)
            convert(tmp, path, "v21", key=c.key)
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass

    # -- loading and reading
    @classmethod
    def load(cls, path, client=None):
        """Opens a saved artifact of either format (verified first when the
        client requires signatures: MAIFVerifyError names the first problem)."""
        c = client if client is not None else create_client("default-agent")
        if c.require_signatures:
            rep = verify(path, trusted_keys=c.trusted_keys)
            if not rep.ok:
                raise error(_lib.EVERIFY, "%s: does not verify: %s" % (os.fspath(path), rep.errors[0]))
        art = cls(os.path.splitext(os.path.basename(os.fspath(path)))[0], c)
        art.path = os.fspath(path)
        art._open()
        return art

    def _open(self):
        if self._reader is None and self.path is not None:
            self._reader = Reader(self.path, keyring=self.client.keyring)
            self._file_id = self._reader.info()["file_id"]
        return self._reader

    def _close_reader(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _decoded(self, r, i, view):
        key = (os.path.realpath(self.path), self._file_id, i)
        v = self.client._cache_get(key)
        if v is None:
            raw = r.read(i)
            if view.type == BlockType.TEXT:
                v = raw.decode("utf-8")
            elif view.type == BlockType.EMBEDDINGS:
                n = len(raw) // 4
                dims = (view.metadata or {}).get("dimensions") or n
                flat = struct.unpack("<%df" % n, raw[:n * 4])
                v = [list(flat[j:j + dims]) for j in range(0, n, dims)]
            else:
                v = raw
            self.client._cache_put(key, v)
        return v

    def get_content(self):
        """Every block, saved then pending: dicts with block_id, type (four
        characters), data (str for text, rows for embeddings, else bytes),
        metadata, saved."""
        out = []
        r = self._open()
        if r is not None:
            for i in range(len(r)):
                view = r.block(i)
                if view.type == 0x4B455957:  # "KEYW": the key-wrap blocks of encryption
                    continue
                out.append({"block_id": view.id.hex(), "type": view.fourcc, "data": self._decoded(r, i, view),
                            "metadata": view.metadata, "saved": True})
        for p in self._pending:
            t = p["type"]
            code = int(t) if isinstance(t, int) else None
            data = p["rows"] if p["rows"] is not None else (
                p["payload"].decode("utf-8") if code == BlockType.TEXT else p["payload"])
            out.append({"block_id": p["id"].hex(), "type": _fourcc_of(t), "data": data,
                        "metadata": p["metadata"], "saved": False})
        return out

    def __len__(self):
        return len(self.get_content())

    def search(self, query, top_k=5):
        """A text query: the saved artifact's text blocks, best first, by the
        semantic engine's hybrid search (the embeddings of the latest model
        fused with BM25; BM25 alone when nothing is embedded):
        [{"block", "block_id", "score", "text"}]. A vector query: the
        embedding rows by cosine similarity: [{"block_id", "row", "score",
        "metadata"}], best first."""
        if isinstance(query, str):
            return self._search_text(query, top_k)
        q = [float(x) for x in (query.tolist() if hasattr(query, "tolist") else query)]
        qn = math.sqrt(sum(x * x for x in q))
        if qn == 0:
            raise ValueError("search: the query vector is zero")
        hits = []
        for item in self.get_content():
            if item["type"] != "EMBD":
                continue
            for j, row in enumerate(item["data"]):
                if len(row) != len(q):
                    continue
                rn = math.sqrt(sum(x * x for x in row))
                score = sum(a * b for a, b in zip(q, row)) / (qn * rn) if rn else 0.0
                hits.append({"block_id": item["block_id"], "row": j, "score": score, "metadata": item["metadata"]})
        hits.sort(key=lambda h: -h["score"])
        return hits[:max(0, int(top_k))]

    def _search_text(self, query, top_k):
        if self.path is None:
            raise ValueError("search: the artifact has not been saved")
        L = _lib.lib
        r, ix, se = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        hits = []
        try:
            q = query.encode("utf-8")
            for rc in (lambda: L.maif_reader_open(ctypes.byref(r), self.path.encode()),
                       lambda: L.maif_index_open(ctypes.byref(ix), r, None),
                       lambda: L.maif_search_create(ctypes.byref(se)),
                       lambda: L.maif_search_set(se, 1, max(1, min(int(top_k), 10000))),  # MAIF_SEARCH_K
                       lambda: L.maif_search_set(se, 4, 0x54455854),                      # MAIF_SEARCH_TYPE: TEXT
                       lambda: L.maif_search_set_text(se, q, len(q))):
                code = rc()
                if code < 0:
                    raise error(code)
            code = L.maif_search_run(se, ix)
            if code < 0:  # nothing embedded yet: words alone
                code = L.maif_search_set(se, 2, 2)                                      # MAIF_SEARCH_MODE: TEXT
                code = code if code < 0 else L.maif_search_run(se, ix)
                if code < 0:
                    raise error(code)
            for i in range(L.maif_search_count(se)):
                h = _lib.SearchHit()
                if L.maif_search_result(se, i, ctypes.byref(h)) < 0:
                    break
                text = ctypes.string_at(h.snippet, h.snippet_size).decode("utf-8", "replace") if h.snippet else ""
                hits.append({"block": h.block, "block_id": bytes(h.id).hex(), "score": h.score, "text": text})
        finally:
            if se:
                L.maif_search_free(se)
            if ix:
                L.maif_index_close(ix)
            if r:
                L.maif_reader_close(r)
        return hits

    def verify(self):
        """True if the saved file verifies (pinned to the client's trusted keys)."""
        if self.path is None:
            raise ValueError("verify: the artifact has not been saved")
        return verify(self.path, trusted_keys=self.client.trusted_keys).ok

    def close(self):
        self._close_reader()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<Artifact %r path=%r pending=%d>" % (self.name, self.path, len(self._pending))


def _is_v21(path):
    with Reader(path) as r:
        return r.format == "v21"


def _fourcc_of(t):
    from .handles import fourcc, type_code
    try:
        return fourcc(type_code(t))
    except MAIFError:
        return str(t)


__all__ = ["MAIFClient", "Artifact", "create_client", "create_artifact"]
