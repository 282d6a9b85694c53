"""Framework adapters, the Python twins of the JavaScript ones (docs/JS.md):
a LangGraph checkpoint saver, a LangChain vector store and a LangChain chat
message history, each keeping its state as signed blocks of a maif artifact.

LangGraph and LangChain are not packaged by Debian, so these classes do not
import them: they implement the protocols (method names, arguments and
return shapes) of ``BaseCheckpointSaver``, ``VectorStore`` and
``BaseChatMessageHistory`` and work as duck-typed drop-ins; subclass them
together with the framework's base class where it is installed. The
tests (python/tests/test_adapters.py) check the protocols with stand-in
base classes.

The saver writes the block layout of the JavaScript ``MaifSaver`` (LGCK,
LGCV, LGWR, LGDL; docs/JS.md), with values serialised as JSON (``serde``
"json") or raw bytes ("bytes"), so ``maif verify`` checks a Python run's
history the same way. Deleting a thread or clearing a history appends a
signed tombstone: the artifact is append-only, the bytes remain.
"""
import collections
import json
import math
import os
import time

from .handles import Key, Reader, Writer, as_key

__all__ = ["MaifCheckpointSaver", "CheckpointTuple", "MaifVectorStore", "Document", "MaifChatMessageHistory",
           "ChatMessage"]


def _open_writer(path, key):
    mode = "a" if os.path.exists(path) else "w"
    return Writer(path, key, mode=mode, lock_wait_ms=10000)


def _dumps(value):
    """(payload bytes, serde tag)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value), "bytes"
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode(), "json"


def _loads(payload, serde):
    return payload if serde == "bytes" else json.loads(payload.decode("utf-8"))


def _blocks(path):
    """(index, fourcc, metadata) of every block of path, in file order."""
    if not os.path.exists(path):
        return []
    out = []
    with Reader(path) as r:
        for i in range(len(r)):
            b = r.block(i)
            out.append((i, b.fourcc, b.metadata or {}))
    return out


def _read(path, index):
    with Reader(path) as r:
        return r.read(index)


# ------------------------------------------------------------------ LangGraph

CheckpointTuple = collections.namedtuple("CheckpointTuple",
                                         "config checkpoint metadata parent_config pending_writes")


class MaifCheckpointSaver:
    """A LangGraph checkpoint saver (the protocol of BaseCheckpointSaver:
    get_tuple, list, put, put_writes, delete_thread) over a maif artifact.

    saver = MaifCheckpointSaver("run.maif", key=maif.Key.generate())
    graph = builder.compile(checkpointer=saver)   # with LangGraph installed

    Every put and put_writes is one signed commit. Checkpoints, channel
    values and writes must be JSON-serialisable (or bytes)."""

    def __init__(self, path, key=None):
        self.path = os.fspath(path)
        self.key = key if isinstance(key, Key) else (Key.default() if key is None else as_key(key))
        if not os.path.exists(self.path):
            with Writer(self.path, self.key, mode="w"):
                pass

    # -- the index, rebuilt from the artifact on every call (O(blocks))
    def _index(self):
        cps, values, writes, deleted = [], {}, {}, {}
        for i, cc, m in _blocks(self.path):
            if cc not in ("LGCK", "LGCV", "LGWR", "LGDL") or not isinstance(m.get("thread_id"), str):
                continue
            t = m["thread_id"]
            if cc == "LGDL":
                deleted[t] = i
                continue
            ns = m.get("checkpoint_ns", "")
            if cc == "LGCK":
                cps.append((i, t, ns, m))
            elif cc == "LGCV":
                values.setdefault((t, ns, m.get("channel"), str(m.get("version"))), i)
            else:
                key = (t, ns, m.get("checkpoint_id"))
                lst = writes.setdefault(key, [])
                tk = (m.get("task_id"), m.get("idx"))
                if any((x[1].get("task_id"), x[1].get("idx")) == tk for x in lst) and m.get("idx", 0) >= 0:
                    continue  # a regular write is stored once
                lst[:] = [x for x in lst if (x[1].get("task_id"), x[1].get("idx")) != tk]
                lst.append((i, m))
        live = lambda i, t: t not in deleted or i > deleted[t]  # noqa: E731
        cps = [c for c in cps if live(c[0], c[1])]
        values = {k: v for k, v in values.items() if live(v, k[0])}
        writes = {k: [x for x in v if live(x[0], k[0])] for k, v in writes.items()}
        return cps, values, writes

    def _tuple(self, entry, values, writes):
        i, t, ns, m = entry
        cp = _loads(_read(self.path, i), m.get("serde", "json"))
        cp = dict(cp)
        cv = {}
        for ch, ver in (cp.get("channel_versions") or {}).items():
            at = values.get((t, ns, ch, str(ver)))
            if at is not None:
                vm = dict(_blocks_meta(self.path, at))
                cv[ch] = _loads(_read(self.path, at), vm.get("serde", "json"))
        cp["channel_values"] = cv
        config = {"configurable": {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": m["checkpoint_id"]}}
        parent = m.get("parent_checkpoint_id")
        parent_config = ({"configurable": {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": parent}}
                         if parent else None)
        pend = []
        for wi, wm in sorted(writes.get((t, ns, m["checkpoint_id"]), []),
                             key=lambda x: (x[1].get("task_path", ""), x[1].get("task_id", ""), x[1].get("idx", 0))):
            pend.append((wm.get("task_id"), wm.get("channel"), _loads(_read(self.path, wi), wm.get("serde", "json"))))
        return CheckpointTuple(config, cp, m.get("metadata", {}), parent_config, pend)

    def get_tuple(self, config):
        c = (config or {}).get("configurable", {})
        t, ns, cid = c.get("thread_id"), c.get("checkpoint_ns", ""), c.get("checkpoint_id")
        cps, values, writes = self._index()
        cands = [e for e in cps if e[1] == t and e[2] == ns and (cid is None or e[3]["checkpoint_id"] == cid)]
        if not cands:
            return None
        # the newest: checkpoint ids sort by time (uuid6), the file order breaks ties
        best = max(cands, key=lambda e: (e[3]["checkpoint_id"], e[0]))
        return self._tuple(best, values, writes)

    def list(self, config=None, *, filter=None, before=None, limit=None):
        c = (config or {}).get("configurable", {})
        cps, values, writes = self._index()
        sel = [e for e in cps if (c.get("thread_id") is None or e[1] == c["thread_id"]) and
               ("checkpoint_ns" not in c or e[2] == c["checkpoint_ns"]) and
               (c.get("checkpoint_id") is None or e[3]["checkpoint_id"] == c["checkpoint_id"])]
        if before:
            b = before.get("configurable", {}).get("checkpoint_id")
            sel = [e for e in sel if e[3]["checkpoint_id"] < b]
        if filter:
            sel = [e for e in sel if all(e[3].get("metadata", {}).get(k) == v for k, v in filter.items())]
        sel.sort(key=lambda e: (e[3]["checkpoint_id"], e[0]), reverse=True)
        for n, e in enumerate(sel):
            if limit is not None and n >= limit:
                return
            yield self._tuple(e, values, writes)

    def put(self, config, checkpoint, metadata, new_versions):
        c = config["configurable"]
        t, ns = c["thread_id"], c.get("checkpoint_ns", "")
        cp = dict(checkpoint)
        channel_values = cp.pop("channel_values", {}) or {}
        cp["channel_values"] = {}
        _, values, _ = self._index()
        with _open_writer(self.path, self.key) as w:
            for ch, ver in (new_versions or {}).items():
                if (t, ns, ch, str(ver)) in values or ch not in channel_values:
                    continue
                payload, serde = _dumps(channel_values[ch])
                w.add("LGCV", payload, {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": cp["id"],
                                        "channel": ch, "version": str(ver), "serde": serde})
            payload, serde = _dumps(cp)
            meta = {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": cp["id"], "serde": serde,
                    "metadata": metadata or {}}
            if c.get("checkpoint_id"):
                meta["parent_checkpoint_id"] = c["checkpoint_id"]
            w.add("LGCK", payload, meta)
        return {"configurable": {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": cp["id"]}}

    def put_writes(self, config, writes, task_id, task_path=""):
        c = config["configurable"]
        t, ns, cid = c["thread_id"], c.get("checkpoint_ns", ""), c["checkpoint_id"]
        with _open_writer(self.path, self.key) as w:
            for idx, (channel, value) in enumerate(writes):
                payload, serde = _dumps(value)
                special = {"__error__": -1, "__scheduled__": -2, "__interrupt__": -3, "__resume__": -4}
                w.add("LGWR", payload, {"thread_id": t, "checkpoint_ns": ns, "checkpoint_id": cid,
                                        "task_id": task_id, "task_path": task_path,
                                        "idx": special.get(channel, idx), "channel": channel, "serde": serde})

    def delete_thread(self, thread_id):
        """Hides every block of the thread written so far (a signed LGDL
        tombstone); the bytes stay in the append-only artifact."""
        with _open_writer(self.path, self.key) as w:
            w.add("LGDL", json.dumps({"thread_id": thread_id, "deleted_at": int(time.time() * 1000)}),
                  {"thread_id": thread_id})


def _blocks_meta(path, index):
    with Reader(path) as r:
        return r.block(index).metadata or {}


# ------------------------------------------------------------------ LangChain

Document = collections.namedtuple("Document", "page_content metadata id")


class MaifVectorStore:
    """A LangChain vector store (the protocol of VectorStore: add_texts,
    add_documents, similarity_search[_with_score], similarity_search_by_vector,
    from_texts). Each text is a TEXT block with its metadata; its vector an
    EMBD block with "model" and "source_block" (docs/SEMANTIC.md). Search is
    an exact cosine scan over the stored vectors of this store's model."""

    def __init__(self, path, embedding, key=None, model="langchain"):
        self.path = os.fspath(path)
        self.embedding = embedding
        self.model = model
        self.key = key if isinstance(key, Key) else (Key.default() if key is None else as_key(key))
        if not os.path.exists(self.path):
            with Writer(self.path, self.key, mode="w"):
                pass

    @classmethod
    def from_texts(cls, texts, embedding, metadatas=None, path="vectors.maif", key=None, **kw):
        store = cls(path, embedding, key=key, **kw)
        store.add_texts(texts, metadatas)
        return store

    def add_texts(self, texts, metadatas=None, ids=None):
        texts = list(texts)
        vectors = self.embedding.embed_documents(texts)
        out = []
        with _open_writer(self.path, self.key) as w:
            for n, (t, v) in enumerate(zip(texts, vectors)):
                meta = dict((metadatas or [{}] * len(texts))[n] or {})
                if ids:
                    meta["doc_id"] = ids[n]
                bid = w.add("text", t, meta or None)
                w.add_embeddings([list(map(float, v))], {"model": self.model, "source_block": bid.hex()})
                out.append(ids[n] if ids else bid.hex())
        return out

    def add_documents(self, documents):
        return self.add_texts([d.page_content for d in documents], [dict(d.metadata or {}) for d in documents])

    def similarity_search_by_vector_with_score(self, vector, k=4, filter=None):
        q = [float(x) for x in vector]
        qn = math.sqrt(sum(x * x for x in q)) or 1.0
        hits = []
        with Reader(self.path) as r:
            for i in range(len(r)):
                b = r.block(i)
                m = b.metadata or {}
                if b.fourcc != "EMBD" or m.get("model") != self.model or m.get("count") != 1:
                    continue
                import struct
                raw = r.read(i)
                v = struct.unpack("<%df" % (len(raw) // 4), raw)
                if len(v) != len(q):
                    continue
                vn = math.sqrt(sum(x * x for x in v)) or 1.0
                score = sum(a * b2 for a, b2 in zip(q, v)) / (qn * vn)
                src = r.find(bytes.fromhex(m["source_block"]))
                sb = r.block(src)
                smeta = sb.metadata or {}
                if filter and any(smeta.get(fk) != fv for fk, fv in filter.items()):
                    continue
                doc_id = smeta.pop("doc_id", None) or sb.id.hex()
                hits.append((Document(r.read(src).decode("utf-8"), smeta, doc_id), score))
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def similarity_search_by_vector(self, vector, k=4, filter=None):
        return [d for d, _ in self.similarity_search_by_vector_with_score(vector, k, filter)]

    def similarity_search_with_score(self, query, k=4, filter=None):
        return self.similarity_search_by_vector_with_score(self.embedding.embed_query(query), k, filter)

    def similarity_search(self, query, k=4, filter=None):
        return [d for d, _ in self.similarity_search_with_score(query, k, filter)]


ChatMessage = collections.namedtuple("ChatMessage", "type content")


class MaifChatMessageHistory:
    """A LangChain chat message history (the protocol of
    BaseChatMessageHistory: messages, add_message, add_messages, clear):
    each message a TEXT block with metadata {"session_id", "message_type"};
    clear() appends a signed tombstone that hides the messages before it."""

    def __init__(self, path, session_id, key=None):
        self.path = os.fspath(path)
        self.session_id = session_id
        self.key = key if isinstance(key, Key) else (Key.default() if key is None else as_key(key))
        if not os.path.exists(self.path):
            with Writer(self.path, self.key, mode="w"):
                pass

    @property
    def messages(self):
        out = []
        with Reader(self.path) as r:
            for i in range(len(r)):
                b = r.block(i)
                m = b.metadata or {}
                if m.get("session_id") != self.session_id:
                    continue
                if b.fourcc == "LCCL":
                    out = []
                elif b.fourcc == "TEXT" and "message_type" in m:
                    out.append(ChatMessage(m["message_type"], r.read(i).decode("utf-8")))
        return out

    def add_messages(self, messages):
        with _open_writer(self.path, self.key) as w:
            for msg in messages:
                typ = msg.get("type") if isinstance(msg, dict) else getattr(msg, "type")
                content = msg.get("content") if isinstance(msg, dict) else getattr(msg, "content")
                if not isinstance(content, str):
                    content = json.dumps(content)
                w.add("text", content, {"session_id": self.session_id, "message_type": typ})

    def add_message(self, message):
        self.add_messages([message])

    def add_user_message(self, text):
        self.add_message({"type": "human", "content": text})

    def add_ai_message(self, text):
        self.add_message({"type": "ai", "content": text})

    def clear(self):
        with _open_writer(self.path, self.key) as w:
            w.add("LCCL", json.dumps({"session_id": self.session_id, "cleared_at": int(time.time() * 1000)}),
                  {"session_id": self.session_id})
