"""The Python twins of the framework adapters (maif.adapters), checked
against the protocols they implement. LangGraph and LangChain are not
packaged by Debian, so the base classes here are stand-ins that state each
protocol's methods; the checks follow the behaviours the official suites
and the JavaScript twins test (docs/JS.md)."""
import hashlib
import subprocess

import pytest

import maif
from maif.adapters import (CheckpointTuple, Document, MaifChatMessageHistory, MaifCheckpointSaver,
                           MaifVectorStore)


class StandInCheckpointSaver:
    """The methods of langgraph.checkpoint.base.BaseCheckpointSaver."""
    required = ("get_tuple", "list", "put", "put_writes", "delete_thread")


class StandInVectorStore:
    required = ("add_texts", "add_documents", "similarity_search", "similarity_search_with_score",
                "similarity_search_by_vector", "from_texts")


class StandInChatHistory:
    required = ("messages", "add_message", "add_messages", "clear")


def test_protocols_are_complete():
    for cls, proto in ((MaifCheckpointSaver, StandInCheckpointSaver), (MaifVectorStore, StandInVectorStore),
                       (MaifChatMessageHistory, StandInChatHistory)):
        for name in proto.required:
            assert hasattr(cls, name), (cls.__name__, name)


def cp(cid, step, counter):
    return {"v": 1, "id": cid, "ts": "2026-12-01T00:00:%02d+00:00" % step,
            "channel_values": {"counter": counter, "messages": ["m%d" % i for i in range(step)]},
            "channel_versions": {"counter": str(step), "messages": str(step)}, "versions_seen": {}}


def test_checkpoint_saver(tmp_path):
    key = maif.Key.generate()
    path = str(tmp_path / "run.maif")
    s = MaifCheckpointSaver(path, key=key)
    base = {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}
    assert s.get_tuple(base) is None
    c1 = s.put(base, cp("0001", 1, 10), {"source": "input", "step": 1}, {"counter": "1", "messages": "1"})
    assert c1["configurable"]["checkpoint_id"] == "0001"
    c2 = s.put(c1, cp("0002", 2, 11), {"source": "loop", "step": 2}, {"counter": "2", "messages": "2"})
    s.put_writes(c2, [("counter", 12), ("messages", ["late"])], task_id="task-a", task_path="~")
    s.put_writes(c2, [("counter", 99)], task_id="task-a", task_path="~")  # a regular write is kept once
    # latest checkpoint, its values restored from the value blocks, its writes
    t = s.get_tuple(base)
    assert isinstance(t, CheckpointTuple)
    assert t.checkpoint["id"] == "0002" and t.checkpoint["channel_values"] == {"counter": 11, "messages": ["m0", "m1"]}
    assert t.metadata == {"source": "loop", "step": 2}
    assert t.parent_config["configurable"]["checkpoint_id"] == "0001"
    assert t.pending_writes == [("task-a", "counter", 12), ("task-a", "messages", ["late"])]
    # a given checkpoint
    t1 = s.get_tuple({"configurable": {"thread_id": "t1", "checkpoint_ns": "", "checkpoint_id": "0001"}})
    assert t1.checkpoint["channel_values"]["counter"] == 10 and t1.parent_config is None
    # list: newest first, filter, before, limit
    assert [x.checkpoint["id"] for x in s.list(base)] == ["0002", "0001"]
    assert [x.checkpoint["id"] for x in s.list(base, filter={"source": "input"})] == ["0001"]
    assert [x.checkpoint["id"] for x in s.list(base, before=c2)] == ["0001"]
    assert len(list(s.list(base, limit=1))) == 1
    # another thread and namespace stay apart
    s.put({"configurable": {"thread_id": "t2", "checkpoint_ns": "sub"}}, cp("0003", 1, 5), {}, {"counter": "1"})
    assert [x.checkpoint["id"] for x in s.list({"configurable": {"thread_id": "t1"}})] == ["0002", "0001"]
    assert s.get_tuple({"configurable": {"thread_id": "t2", "checkpoint_ns": "sub"}}).checkpoint["id"] == "0003"
    # a reopened saver sees the same state: the state is the artifact
    assert MaifCheckpointSaver(path, key=key).get_tuple(base).checkpoint["id"] == "0002"
    # delete_thread hides the thread; the bytes remain and the file verifies
    before = open(path, "rb").read()
    s.delete_thread("t1")
    assert s.get_tuple(base) is None and list(s.list(base)) == []
    assert s.get_tuple({"configurable": {"thread_id": "t2", "checkpoint_ns": "sub"}}) is not None
    after = open(path, "rb").read()
    assert after.startswith(before[:len(before) - 16])  # appended, nothing erased
    rep = maif.verify(path, trusted_keys=[key])
    assert rep.ok
    # a thread with the same id written later starts afresh
    s.put(base, cp("0009", 1, 1), {}, {"counter": "1"})
    assert [x.checkpoint["id"] for x in s.list(base)] == ["0009"]


class FakeEmbeddings:
    """Deterministic embeddings (as LangChain's DeterministicFakeEmbedding):
    a vector from the text's hash, so equal texts embed equally."""
    size = 16

    def _v(self, text):
        h = hashlib.sha256(text.encode()).digest()
        return [(b - 128) / 128.0 for b in h[:self.size]]

    def embed_documents(self, texts):
        return [self._v(t) for t in texts]

    def embed_query(self, text):
        return self._v(text)


def test_vector_store(tmp_path):
    path = str(tmp_path / "vec.maif")
    key = maif.Key.generate()
    emb = FakeEmbeddings()
    store = MaifVectorStore.from_texts(["alpha", "beta", "gamma"], emb, [{"n": 1}, {"n": 2}, {"n": 3}],
                                       path=path, key=key)
    hits = store.similarity_search_with_score("beta", k=3)
    assert isinstance(hits[0][0], Document)
    assert hits[0][0].page_content == "beta" and hits[0][0].metadata == {"n": 2}
    assert abs(hits[0][1] - 1.0) < 1e-6
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    ids = store.add_documents([Document("delta", {"n": 4}, None)])
    assert len(ids) == 1
    assert store.similarity_search("delta", k=1)[0].page_content == "delta"
    assert store.similarity_search("alpha", k=1, filter={"n": 3})[0].page_content == "gamma"
    assert store.similarity_search_by_vector(emb.embed_query("gamma"), k=1)[0].page_content == "gamma"
    # the vectors are EMBD blocks bound to their texts; the file verifies
    assert maif.verify(path, trusted_keys=[key]).ok
    with maif.Reader(path) as r:
        embs = [r.block(i).metadata for i in range(len(r)) if r.block(i).fourcc == "EMBD"]
    assert len(embs) == 4 and all(m["model"] == "langchain" and len(m["source_block"]) == 32 for m in embs)


def test_chat_history(tmp_path):
    path = str(tmp_path / "chat.maif")
    key = maif.Key.generate()
    h = MaifChatMessageHistory(path, "s1", key=key)
    assert h.messages == []
    h.add_user_message("hi")
    h.add_ai_message("hello! how can I help?")
    h.add_messages([{"type": "human", "content": "tell me a joke"}])
    other = MaifChatMessageHistory(path, "s2", key=key)
    other.add_user_message("another session")
    assert [(m.type, m.content) for m in h.messages] == [("human", "hi"), ("ai", "hello! how can I help?"),
                                                         ("human", "tell me a joke")]
    assert [m.content for m in MaifChatMessageHistory(path, "s1", key=key).messages][-1] == "tell me a joke"
    h.clear()
    assert h.messages == [] and len(other.messages) == 1
    h.add_user_message("after clear")
    assert [m.content for m in h.messages] == ["after clear"]
    assert maif.verify(path, trusted_keys=[key]).ok
    # the CLI agrees
    out = subprocess.run(["build/release/maif", "verify", path], capture_output=True, cwd=_root())
    assert out.returncode == 0, out.stderr


def _root():
    import os
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
