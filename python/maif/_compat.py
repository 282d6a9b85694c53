"""_compat.py — the encoder/decoder API that users of the original Python MAIF
know (MAIFEncoder, MAIFDecoder, create_maif, verify_maif, quick_*), over
libmaif.

Differences that code written for the original can see, all deliberate:
  - Files are written in the native format by default; format="v21" writes
    MAIF 2.1 (a native file converted by maif_convert), which the original
    reads. Both formats are read.
  - Verification is libmaif's strict verifier (every byte, chain, Merkle
    root, signatures, provenance of 2.1 files); the error strings are its
    one-line messages.
  - In native files the provenance is the hash chain and the signed commits;
    get_provenance() lists one entry per block derived from them (2.1 files
    return their stored provenance section).
  - Failures raise MAIFError subclasses with the library's message instead
    of returning False.
"""
import enum
import json
import os
import struct

from . import _lib
from .errors import MAIFError
from .handles import Reader, Writer, as_key, convert, type_code, verify

MAGIC_HEADER = b"MAIF"
MAGIC_FOOTER = b"FIAM"
FORMAT_VERSION_MAJOR = 2  # the MAIF 2.1 format written with format="v21"
FORMAT_VERSION_MINOR = 1


class BlockType(enum.IntEnum):
    """Block types: four ASCII characters as a big-endian number."""
    TEXT = 0x54455854        # 'TEXT'
    EMBEDDINGS = 0x454D4244  # 'EMBD'
    IMAGE = 0x494D4147       # 'IMAG'
    AUDIO = 0x41554449       # 'AUDI'
    VIDEO = 0x56494445       # 'VIDE'
    KNOWLEDGE = 0x4B4E4F57   # 'KNOW'
    BINARY = 0x42494E41      # 'BINA'
    METADATA = 0x4D455441    # 'META'
    JSON = 0x4A534F4E        # 'JSON' (libmaif's structured-JSON type)


SecureBlockType = BlockType


class BlockFlags(enum.IntFlag):
    NONE = 0x00
    SIGNED = 0x01
    IMMUTABLE = 0x02
    ENCRYPTED = 0x04
    COMPRESSED = 0x08
    VERIFIED = 0x10
    TAMPERED = 0x20


class FileFlags(enum.IntFlag):
    NONE = 0x00
    SIGNED = 0x01
    FINALIZED = 0x02
    HAS_PROVENANCE = 0x04
    HAS_ENCRYPTION = 0x08


_TYPE_NAMES = {BlockType.TEXT: "TEXT", BlockType.EMBEDDINGS: "EMBED", BlockType.IMAGE: "IMAGE",
               BlockType.AUDIO: "AUDIO", BlockType.VIDEO: "VIDEO", BlockType.KNOWLEDGE: "KNOW",
               BlockType.BINARY: "BINARY", BlockType.METADATA: "META", BlockType.JSON: "JSON"}
_ACTION_NAMES = {BlockType.TEXT: "text", BlockType.EMBEDDINGS: "embeddings", BlockType.IMAGE: "image",
                 BlockType.AUDIO: "audio", BlockType.VIDEO: "video", BlockType.KNOWLEDGE: "knowledge",
                 BlockType.BINARY: "binary", BlockType.METADATA: "metadata", BlockType.JSON: "json"}


def _did(agent):
    if not agent:
        return ""
    return agent if agent.startswith("did:") else "did:maif:" + agent


# ---------------------------------------------------------------- blocks

class SecureBlockHeader:
    """The header fields the original exposed, filled from the file."""
    HEADER_SIZE = 372

    def __init__(self, size=0, block_type=0, flags=0, version=1, timestamp=0, block_id=b"\0" * 16,
                 previous_hash=b"\0" * 32, content_hash=b"\0" * 32, metadata_size=0):
        self.size = size
        self.block_type = block_type
        self.flags = flags
        self.version = version
        self.timestamp = timestamp
        self.block_id = block_id
        self.previous_hash = previous_hash
        self.content_hash = content_hash
        self.metadata_size = metadata_size


class SecureBlock:
    """A block of a loaded file: .data (payload bytes, decoded on first use),
    .metadata (dict or None), .block_id (hex), .block_type (int),
    .block_type_name, .header, .index, .fourcc, .encrypted."""

    def __init__(self, reader, view, size, previous_hash, is_v21):
        self._reader = reader
        self._data = None
        self._meta_text = view.meta
        self._metadata = None
        self.index = view.index
        self.fourcc = view.fourcc
        self.encrypted = bool(view.cipher)
        self.codec = view.codec
        self.supersedes = view.supersedes.hex() if view.supersedes else None
        if is_v21:
            flags = view.flags
        else:
            flags = BlockFlags.SIGNED | BlockFlags.IMMUTABLE
            if view.cipher:
                flags |= BlockFlags.ENCRYPTED
            if view.codec:
                flags |= BlockFlags.COMPRESSED
        self.header = SecureBlockHeader(size=size, block_type=view.type, flags=int(flags),
                                        timestamp=view.timestamp_us, block_id=view.id, previous_hash=previous_hash,
                                        content_hash=view.content_hash,
                                        metadata_size=len(view.meta.encode()) if view.meta else 0)

    @property
    def metadata(self):
        """The block's metadata as a dict (None if it has none); parsed on first use."""
        if self._metadata is None and self._meta_text:
            try:
                self._metadata = json.loads(self._meta_text)
            except ValueError:
                self._metadata = {"_error": "metadata is not valid JSON"}
        return self._metadata

    @metadata.setter
    def metadata(self, value):
        self._metadata, self._meta_text = value, None

    @property
    def data(self):
        if self._data is None:
            self._data = self._reader.read(self.index)
        return self._data

    @property
    def block_id(self):
        return self.header.block_id.hex()

    @property
    def block_type(self):
        return self.header.block_type

    @property
    def block_type_name(self):
        return _TYPE_NAMES.get(self.header.block_type, "UNKNOWN")

    def __repr__(self):
        return "<SecureBlock %d %s %s>" % (self.index, self.fourcc, self.block_id)


class ProvenanceEntry:
    """One provenance entry (a 2.1 file's stored entry, or derived from a native block)."""
    FIELDS = ("timestamp", "agent_id", "agent_did", "action", "block_hash", "entry_hash", "previous_entry_hash",
              "signature", "chain_position", "metadata")

    def __init__(self, timestamp, agent_id, agent_did, action, block_hash, entry_hash="", previous_entry_hash="",
                 signature=b"", chain_position=0, metadata=None):
        self.timestamp = timestamp
        self.agent_id = agent_id
        self.agent_did = agent_did
        self.action = action
        self.block_hash = block_hash
        self.entry_hash = entry_hash
        self.previous_entry_hash = previous_entry_hash
        self.signature = signature
        self.chain_position = chain_position
        self.metadata = metadata if metadata is not None else {}

    @classmethod
    def from_dict(cls, d):
        sig = d.get("signature") or ""
        return cls(d.get("timestamp", 0), d.get("agent_id", ""), d.get("agent_did", ""), d.get("action", ""),
                   d.get("block_hash", ""), d.get("entry_hash", ""), d.get("previous_entry_hash", ""),
                   bytes.fromhex(sig) if isinstance(sig, str) and sig else b"", d.get("chain_position", 0),
                   d.get("metadata") or {})

    def to_dict(self):
        d = {k: getattr(self, k) for k in self.FIELDS}
        d["signature"] = self.signature.hex() if self.signature else ""
        return d

    def __repr__(self):
        return "<ProvenanceEntry %d %s>" % (self.chain_position, self.action)


# --------------------------------------------------------------- encoder

class MAIFEncoder:
    """Writes a signed artifact; blocks become visible at finalize().

    MAIFEncoder(file_path, agent_id, private_key=None, agent_did=None,
                format="native", compress=None)
    private_key: None (a fresh key, like the original), a maif.Key, a key
    file path, 32 seed bytes, or a cryptography Ed25519PrivateKey.
    The blocks go to a temporary file beside file_path, which replaces
    file_path at finalize() (an abandoned encoder leaves nothing)."""

    def __init__(self, file_path, agent_id, private_key=None, agent_did=None, format="native", compress=None):
        self.file_path = os.fspath(file_path)
        self.agent_id = agent_id
        self.agent_did = agent_did or _did(agent_id)
        self.format = format
        if format not in ("native", "v21"):
            raise ValueError("format must be 'native' or 'v21'")
        self.private_key = as_key(private_key)
        self.finalized = False
        self.block_ids = []
        d, base = os.path.split(os.path.abspath(self.file_path))
        self._tmp = os.path.join(d, ".%s.%d.%s.tmp" % (base, os.getpid(), os.urandom(4).hex()))
        self._writer = Writer(self._tmp, self.private_key, agent_id=agent_did or agent_id, mode="w",
                              overwrite=True, compress=compress)

    def _live(self):
        if self.finalized:
            raise RuntimeError("Cannot add blocks to a finalized file")
        if self._writer is None:
            raise RuntimeError("the encoder was aborted")
        return self._writer

    def add_block(self, data, block_type, metadata=None):
        """Adds a block; returns its id as 32 hex digits."""
        w = self._live()
        bid = w.add(type_code(block_type), data, metadata).hex()
        self.block_ids.append(bid)
        return bid

    def add_text_block(self, text, metadata=None):
        if not isinstance(text, str):
            raise TypeError("text must be str")
        return self.add_block(text.encode("utf-8"), BlockType.TEXT, metadata)

    def add_embeddings_block(self, embeddings, metadata=None):
        """Adds rows of float32 (lists or a numpy array); the metadata gets
        count, dimensions and dtype as in the original."""
        bid = self._live().add_embeddings(embeddings, metadata).hex()
        self.block_ids.append(bid)
        return bid

    def add_binary_block(self, data, block_type=BlockType.BINARY, metadata=None):
        return self.add_block(bytes(data), block_type, metadata)

    def get_public_key_bytes(self):
        return self.private_key.public_key

    def finalize(self):
        """Commits, signs and puts the file in place; returns file_path."""
        if self.finalized:
            raise RuntimeError("File already finalized")
        w = self._live()
        try:
            w.commit()
            w.close()
            self._writer = None
            if self.format == "v21":
                convert(self._tmp, self.file_path, "v21", key=self.private_key)
                os.unlink(self._tmp)
            else:
                os.replace(self._tmp, self.file_path)
        except BaseException:
            self.abort()
            raise
        self.finalized = True
        return self.file_path

    def abort(self):
        """Drops everything added; nothing is written at file_path."""
        if self._writer is not None:
            try:
                self._writer.close()
            except MAIFError:
                pass
            self._writer = None
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None and not self.finalized:
            self.finalize()
        elif not self.finalized:
            self.abort()

    def __del__(self):
        try:
            if getattr(self, "_writer", None) is not None and not getattr(self, "finalized", True):
                self.abort()
        except Exception:
            pass


SecureMAIFWriter = MAIFEncoder


# --------------------------------------------------------------- decoder

class MAIFDecoder:
    """Reads and verifies an artifact of either format.

    MAIFDecoder(file_path, keyring=None): keyring (a maif.Keyring) opens
    encrypted blocks. load() is implicit in every getter; close() (or
    `with`) releases the file."""

    def __init__(self, file_path, keyring=None):
        self.file_path = os.fspath(file_path)
        self.keyring = keyring
        self._reader = None
        self._blocks = []
        self._provenance = None
        self._security = None
        self._header = None
        self._info = None
        self._report = None
        self._tampered_blocks = []
        self._tampering_detected = False
        self._integrity_verified = False

    # -- loading
    def load(self):
        """Opens the file and lists its blocks; raises MAIFError on failure."""
        if self._reader is not None:
            return True
        r = Reader(self.file_path, keyring=self.keyring)
        try:
            self._info = r.info()
            sizes = {}
            for kind, _off, size, bi, _t in r.records():
                if kind == "block" and bi >= 0:
                    sizes[bi] = size
            blocks, prev, is_v21 = [], b"\0" * 32, r.format == "v21"
            for i in range(len(r)):
                v = r.block(i)
                blocks.append(SecureBlock(r, v, sizes.get(i, v.payload_size), prev, is_v21))
                prev = v.content_hash
            if r.format == "v21":
                with open(self.file_path, "rb") as f:
                    self._header = f.read(444)
        except BaseException:
            r.close()
            raise
        self._reader, self._blocks = r, blocks
        return True

    def close(self):
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self):
        self.load()
        return self

    def __exit__(self, *exc):
        self.close()

    def _loaded(self):
        if self._reader is None:
            self.load()
        return self._reader

    @property
    def format(self):
        return self._loaded().format

    @property
    def blocks(self):
        self._loaded()
        return self._blocks

    @property
    def provenance(self):
        return self.get_provenance()

    @property
    def security_info(self):
        return self.get_security_info()

    # -- verification
    def verify_integrity(self, trusted_keys=()):
        """(ok, [error messages]) from libmaif's verifier of every byte."""
        rep = verify(self.file_path, trusted_keys=trusted_keys)
        if self._reader is None:
            try:
                self.load()  # as the original did; a file too damaged to open still gets its report
            except MAIFError:
                pass
        self._report = rep
        self._tampered_blocks = rep.tampered_blocks
        self._tampering_detected = not rep.ok
        self._integrity_verified = True
        if self._reader is not None:
            for i in self._tampered_blocks:
                if i < len(self._blocks):
                    self._blocks[i].header.flags |= BlockFlags.TAMPERED
        return rep.ok, rep.errors

    @property
    def report(self):
        """The last verification's maif.Report (findings with codes and offsets)."""
        if not self._integrity_verified:
            self.verify_integrity()
        return self._report

    def is_tampered(self):
        if not self._integrity_verified:
            self.verify_integrity()
        return self._tampering_detected

    def get_tampered_blocks(self):
        if not self._integrity_verified:
            self.verify_integrity()
        return list(self._tampered_blocks)

    # -- content
    def get_blocks(self):
        return self.blocks

    def get_block(self, index):
        blocks = self.blocks
        return blocks[index] if 0 <= index < len(blocks) else None

    def get_text_content(self, block_index):
        b = self.get_block(block_index)
        if b is not None and b.block_type == BlockType.TEXT:
            return b.data.decode("utf-8")
        return None

    def get_embeddings_content(self, block_index, as_numpy=False):
        """The rows of an embedding block (lists of floats, or a numpy array
        of shape (count, dimensions) with as_numpy=True)."""
        b = self.get_block(block_index)
        if b is None or b.block_type != BlockType.EMBEDDINGS:
            return None
        data = b.data
        n = len(data) // 4
        dims = (b.metadata or {}).get("dimensions") or n
        if not isinstance(dims, int) or dims <= 0 or n % dims:
            raise MAIFError(_lib.EFORMAT, "block %d: %d float32 values do not divide into rows of %r"
                            % (block_index, n, dims))
        if as_numpy:
            import numpy
            return numpy.frombuffer(data[:n * 4], dtype="<f4").reshape(n // dims, dims)
        flat = struct.unpack("<%df" % n, data[:n * 4])
        return [list(flat[i:i + dims]) for i in range(0, n, dims)]

    def _section(self, kind):
        """The JSON of a 2.1 file's provenance or security section."""
        for k, off, size, _bi, _t in self._loaded().records():
            if k == kind and size >= 4:
                with open(self.file_path, "rb") as f:
                    f.seek(off)
                    raw = f.read(size)
                (n,) = struct.unpack(">I", raw[:4])
                return json.loads(raw[4:4 + n].decode("utf-8"))
        return None

    def get_provenance(self):
        if self._provenance is not None:
            return self._provenance
        r, info = self._loaded(), self._info
        if r.format == "v21":
            try:
                entries = [ProvenanceEntry.from_dict(e) for e in (self._section("provenance") or [])]
            except (ValueError, TypeError, AttributeError):
                entries = []
        else:
            agent = info["agent"]
            agent_id = agent[9:] if agent.startswith("did:maif:") else agent
            entries = []
            for b in self._blocks:
                name = _ACTION_NAMES.get(b.block_type, b.fourcc.lower())
                entries.append(ProvenanceEntry(b.header.timestamp, agent_id, _did(agent), "add_%s_block" % name,
                                               b.header.content_hash.hex(), chain_position=b.index,
                                               previous_entry_hash=b.header.previous_hash.hex(),
                                               metadata={"block_id": b.block_id, "size": b.header.size}))
        self._provenance = entries
        return entries

    def get_security_info(self):
        if self._security is not None:
            return self._security
        r, info = self._loaded(), self._info
        sec = None
        if r.format == "v21":
            try:
                sec = self._section("security")
            except ValueError:
                sec = None
        if not isinstance(sec, dict):
            agent = info["agent"]
            sec = {"signer_id": agent[9:] if agent.startswith("did:maif:") else agent, "signer_did": _did(agent),
                   "public_key": info["signer"], "key_algorithm": "Ed25519", "signature_algorithm": "Ed25519",
                   "signed_at": info["modified_us"]}
        self._security = sec
        return sec

    def get_file_info(self):
        r, info = self._loaded(), self._info
        if r.format == "v21" and self._header and len(self._header) >= 60:
            hflags = struct.unpack(">I", self._header[8:12])[0]
            creator = self._header[44:60].hex()
            signed, final = bool(hflags & FileFlags.SIGNED), bool(hflags & FileFlags.FINALIZED)
        else:
            creator, signed, final = "", True, True
        agent = info["agent"]
        return {
            "file_id": info["file_id"], "creator_id": creator, "agent_did": _did(agent),
            "agent_id": agent[9:] if agent.startswith("did:maif:") else agent,
            "version": info["version"], "format": info["format"], "created": info["created_us"],
            "modified": info["modified_us"], "block_count": info["block_count"],
            "merkle_root": info["merkle_root"], "is_signed": signed, "is_finalized": final,
            "key_algorithm": "Ed25519", "signer": info["signer"], "commit_count": info["commit_count"],
            "file_size": info["file_size"],
        }

    def export_manifest(self):
        info = self.get_file_info()
        blocks = []
        for b in self.blocks:
            try:
                tname = BlockType(b.block_type).name
            except ValueError:
                tname = b.fourcc
            blocks.append({"index": b.index, "type": tname, "block_id": b.block_id, "size": b.header.size,
                           "content_hash": b.header.content_hash.hex(), "timestamp": b.header.timestamp,
                           "is_signed": bool(b.header.flags & BlockFlags.SIGNED),
                           "is_tampered": bool(b.header.flags & BlockFlags.TAMPERED), "metadata": b.metadata})
        return {
            "maif_version": info["version"], "format": info["format"], "file_info": info, "blocks": blocks,
            "provenance": [e.to_dict() for e in self.get_provenance()], "security": self.get_security_info(),
            "integrity": {"verified": self._integrity_verified, "tampering_detected": self._tampering_detected,
                          "tampered_blocks": list(self._tampered_blocks)},
        }


SecureMAIFReader = MAIFDecoder


# ---------------------------------------------------------------- parser

class MAIFBlock:
    """The parser's simplified view of a block (the original's MAIFBlock)."""

    def __init__(self, block_type, offset=0, size=0, hash_value="", version=1, previous_hash=None, block_id=None,
                 metadata=None, data=None):
        self.block_type = block_type
        self.offset = offset
        self.size = size
        self.hash_value = hash_value
        self.version = version
        self.previous_hash = previous_hash
        self.block_id = block_id
        self.metadata = metadata
        self.data = data

    @property
    def hash(self):
        return self.hash_value

    def to_dict(self):
        return {"type": self.block_type, "block_type": self.block_type, "offset": self.offset, "size": self.size,
                "hash": self.hash_value, "version": self.version, "previous_hash": self.previous_hash,
                "block_id": self.block_id, "metadata": self.metadata or {}}


class MAIFHeader:
    """The parser's simplified view of the file header."""

    def __init__(self, version="2.1", created_timestamp=None, creator_id=None, root_hash=None, agent_id=None):
        self.version = version
        self.created_timestamp = created_timestamp
        self.creator_id = creator_id
        self.root_hash = root_hash
        self.agent_id = agent_id


class MAIFParser:
    """High-level reading: load(), .blocks (MAIFBlock), .provenance, .header,
    verify() -> (bool, [str]), is_tampered(), get_block_data(i),
    get_text_content(i), export_manifest(), .file_info, .security_info."""

    def __init__(self, file_path):
        self.file_path = os.fspath(file_path)
        self._decoder = MAIFDecoder(file_path)
        self.blocks = []
        self.provenance = []
        self.header = None

    def load(self):
        d = self._decoder
        d.load()
        zero = b"\0" * 32
        self.blocks = [MAIFBlock(b.fourcc, d._reader.block(b.index).offset, b.header.size,
                                 b.header.content_hash.hex(), b.header.version,
                                 None if b.header.previous_hash == zero else b.header.previous_hash.hex(),
                                 b.block_id, b.metadata, b.data) for b in d.blocks]
        self.provenance = d.get_provenance()
        fi = d.get_file_info()
        self.header = MAIFHeader(fi["version"], fi["created"] / 1e6, fi["creator_id"], fi["merkle_root"],
                                 fi["agent_did"])
        return True

    def verify(self):
        return self._decoder.verify_integrity()

    def is_tampered(self):
        return self._decoder.is_tampered()

    def get_block_data(self, index):
        b = self._decoder.get_block(index)
        return b.data if b is not None else None

    def get_text_content(self, index):
        return self._decoder.get_text_content(index)

    def export_manifest(self):
        return self._decoder.export_manifest()

    @property
    def file_info(self):
        return self._decoder.get_file_info()

    @property
    def security_info(self):
        return self._decoder.get_security_info()

    def close(self):
        self._decoder.close()

    def __enter__(self):
        self.load()
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------ functions

def create_maif(output_path, agent_id, content, private_key=None, format="native"):
    """Writes content {"texts": [str | {"content", "metadata"}], "embeddings":
    rows, "embeddings_metadata": {...}, "binaries": [{"data", "metadata"}]};
    returns output_path."""
    enc = MAIFEncoder(output_path, agent_id, private_key, format=format)
    try:
        for t in content.get("texts", []):
            if isinstance(t, dict):
                enc.add_text_block(t["content"], t.get("metadata"))
            else:
                enc.add_text_block(t)
        if content.get("embeddings"):
            enc.add_embeddings_block(content["embeddings"], content.get("embeddings_metadata"))
        for b in content.get("binaries", []):
            enc.add_binary_block(b["data"], BlockType.BINARY, b.get("metadata"))
        return enc.finalize()
    finally:
        if not enc.finalized:
            enc.abort()


def verify_maif(file_path, trusted_keys=()):
    """(is_valid, report) with the original's report keys (file_path,
    is_valid, tampering_detected, tampered_blocks, errors, file_info,
    block_count, provenance_entries) plus format, warnings and findings."""
    rep = verify(file_path, trusted_keys=trusted_keys)
    file_info, prov = {}, 0
    try:
        with MAIFDecoder(file_path) as d:
            file_info = d.get_file_info()
            prov = len(d.get_provenance())
    except MAIFError:
        pass
    report = {
        "file_path": os.fspath(file_path), "is_valid": rep.ok, "tampering_detected": not rep.ok,
        "tampered_blocks": rep.tampered_blocks, "errors": rep.errors, "file_info": file_info,
        "block_count": rep.blocks, "provenance_entries": prov, "format": rep.format,
        "warnings": [f.message for f in rep.findings if f.severity == "warning"],
        "findings": [f.as_dict() for f in rep.findings],
    }
    return rep.ok, report


create_secure_maif = create_maif
verify_secure_maif = verify_maif


def quick_create(output_path, texts=None, embeddings=None, agent_id="default-agent", metadata=None,
                 format="native"):
    enc = MAIFEncoder(output_path, agent_id, format=format)
    try:
        for i, t in enumerate(texts or []):
            enc.add_text_block(t, {"index": i, **(metadata or {})})
        if embeddings:
            enc.add_embeddings_block(embeddings, dict(metadata) if metadata else None)
        return enc.finalize()
    finally:
        if not enc.finalized:
            enc.abort()


def quick_verify(file_path):
    return verify_maif(file_path)[0]


def quick_read(file_path):
    with MAIFDecoder(file_path) as d:
        return d.export_manifest()


__all__ = ["MAIFEncoder", "MAIFDecoder", "MAIFParser", "MAIFBlock", "MAIFHeader", "BlockType", "BlockFlags", "FileFlags", "SecureBlock",
           "SecureBlockHeader", "ProvenanceEntry", "create_maif", "verify_maif", "quick_create", "quick_verify",
           "quick_read", "SecureMAIFWriter", "SecureMAIFReader", "SecureBlockType", "create_secure_maif",
           "verify_secure_maif", "MAGIC_HEADER", "MAGIC_FOOTER", "FORMAT_VERSION_MAJOR", "FORMAT_VERSION_MINOR"]
