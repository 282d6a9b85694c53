"""simple.py — the one-class API of the original's maif_api.py, over libmaif.

    m = MAIF("my-agent").add_text("Hello").add_embeddings([[0.1, 0.2]])
    m.save("out.maif")                  # format="v21" writes MAIF 2.1
    m = MAIF.load("out.maif")           # also m.load(path) on an instance
    assert m.verify() and m.texts == ["Hello"]

Blocks are written in the order they were added (the original wrote all
texts, then one block of all embeddings, then the binaries); add_image
stores an IMAG block (the original stored images as BINA).
"""
import os

from ._compat import BlockType, MAIFDecoder, MAIFEncoder


class _HybridLoad:
    """MAIF.load(path) returns a new MAIF; m.load(path) loads into m."""

    def __get__(self, obj, cls):
        if obj is None:
            return lambda filepath, **kw: cls()._load_into(filepath, **kw)
        return obj._load_into


class MAIF:
    def __init__(self, agent_id="default-agent", private_key=None):
        self.agent_id = agent_id
        self.private_key = private_key
        self._name = "%s_artifact" % agent_id
        self._pending = []  # (kind, payload, metadata) in the order added
        self._decoder = None
        self._file_path = None

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    # -- adding (each returns self, for chaining)
    def add_text(self, content, metadata=None):
        if not isinstance(content, str):
            raise TypeError("content must be str")
        self._pending.append(("text", content, dict(metadata or {})))
        return self

    def add_embeddings(self, vectors, metadata=None):
        self._pending.append(("embeddings", vectors, dict(metadata or {}) or None))
        return self

    def add_binary(self, data, name="binary", metadata=None):
        meta = dict(metadata or {})
        if name != "binary":
            meta.setdefault("name", name)
        self._pending.append(("binary", bytes(data), meta))
        return self

    def add_image(self, path, metadata=None):
        with open(path, "rb") as f:
            data = f.read()
        meta = dict(metadata or {})
        meta["source_path"] = os.fspath(path)
        meta["filename"] = os.path.basename(path)
        self._pending.append(("image", data, meta))
        return self

    # -- saving and loading
    def save(self, filepath, format="native"):
        """Writes everything added to a new signed file; returns filepath."""
        with MAIFEncoder(filepath, self.agent_id, self.private_key, format=format) as enc:
            for kind, payload, meta in self._pending:
                if kind == "text":
                    enc.add_text_block(payload, meta)
                elif kind == "embeddings":
                    enc.add_embeddings_block(payload, meta)
                elif kind == "image":
                    enc.add_binary_block(payload, BlockType.IMAGE, meta)
                else:
                    enc.add_binary_block(payload, BlockType.BINARY, meta)
        self._file_path = os.fspath(filepath)
        return filepath

    load = _HybridLoad()

    def _load_into(self, filepath, keyring=None):
        if not os.path.exists(filepath):
            raise FileNotFoundError("MAIF file not found: %s" % filepath)
        dec = MAIFDecoder(filepath, keyring=keyring)
        dec.load()
        if self._decoder is not None:
            self._decoder.close()
        self._decoder, self._file_path = dec, os.fspath(filepath)
        self.agent_id = dec.get_file_info().get("agent_id") or "unknown"
        return self

    def close(self):
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading
    @property
    def _is_loaded(self):
        return self._decoder is not None

    @property
    def texts(self):
        if self._decoder is not None:
            return [b.data.decode("utf-8") for b in self._decoder.blocks if b.block_type == BlockType.TEXT]
        return [p for k, p, _m in self._pending if k == "text"]

    @property
    def embeddings(self):
        """Every embedding row of the loaded file (or added so far)."""
        if self._decoder is not None:
            rows = []
            for b in self._decoder.blocks:
                if b.block_type == BlockType.EMBEDDINGS:
                    rows.extend(self._decoder.get_embeddings_content(b.index))
            return rows
        out = []
        for k, p, _m in self._pending:
            if k == "embeddings":
                out.extend(p.tolist() if hasattr(p, "tolist") else p)
        return out

    @property
    def blocks(self):
        if self._decoder is None:
            return []
        return [{"index": b.index, "type": b.block_type, "size": b.header.size, "hash": b.header.content_hash.hex(),
                 "metadata": b.metadata} for b in self._decoder.blocks]

    @property
    def provenance(self):
        if self._decoder is None:
            return []
        return [e.to_dict() for e in self._decoder.get_provenance()]

    @property
    def file_info(self):
        if self._decoder is not None:
            return self._decoder.get_file_info()
        counts = {"text": 0, "embeddings": 0, "binary": 0, "image": 0}
        for k, _p, _m in self._pending:
            counts[k] += 1
        return {"agent_id": self.agent_id, "text_count": counts["text"], "embedding_count": counts["embeddings"],
                "binary_count": counts["binary"] + counts["image"]}

    def verify(self):
        """True if the loaded file verifies (True when nothing is loaded yet, as in the original)."""
        if self._decoder is None:
            return True
        return self._decoder.verify_integrity()[0]

    def is_tampered(self):
        return self._decoder.is_tampered() if self._decoder is not None else False

    def summary(self):
        lines = ["MAIF Summary: %s" % self.name, "  Agent: %s" % self.agent_id]
        if self._decoder is not None:
            info = self.file_info
            lines += ["  File: %s" % self._file_path, "  Version: %s" % info.get("version"),
                      "  Blocks: %s" % info.get("block_count"),
                      "  Signed: %s" % ("Yes" if info.get("is_signed") else "No")]
        else:
            fi = self.file_info
            lines += ["  Texts: %d" % fi["text_count"], "  Embeddings: %d" % fi["embedding_count"],
                      "  Binaries: %d" % fi["binary_count"]]
        return "\n".join(lines)

    def __repr__(self):
        if self._decoder is not None:
            return "<MAIF loaded from %r, %d blocks>" % (self._file_path, len(self._decoder.blocks))
        return "<MAIF agent=%r, %d pending blocks>" % (self.agent_id, len(self._pending))


def create_maif(output_path, texts=None, embeddings=None, agent_id="default-agent", format="native"):
    """maif_api.create_maif: a file of texts and one embedding block."""
    m = MAIF(agent_id)
    for t in texts or []:
        m.add_text(t)
    if embeddings:
        m.add_embeddings(embeddings)
    return m.save(output_path, format=format)


def load_maif(filepath):
    return MAIF.load(filepath)


def quick_text_maif(text, output_path, agent_id="quick"):
    return create_maif(output_path, texts=[text], agent_id=agent_id)


def quick_multimodal_maif(texts, embeddings, output_path, agent_id="multimodal"):
    return create_maif(output_path, texts=texts, embeddings=embeddings, agent_id=agent_id)


__all__ = ["MAIF", "create_maif", "load_maif", "quick_text_maif", "quick_multimodal_maif"]
