"""The SDK (maif_sdk): client options mapped onto the library, and the
artifact calls; options whose engine has not landed raise."""
import threading

import pytest

import maif
from maif_sdk import Artifact, create_artifact, create_client


def test_artifact_round_trip():
    client = create_client("agent-7")
    art = create_artifact("notes", client)
    tid = art.add_text("The meeting moved to Tuesday.", title="memo", language="en")
    eid = art.add_embedding([3.0, 4.0], model="mini", normalize=True)
    iid = art.add_image(b"\x89PNG\r\n\x1a\n1234")
    assert len(art) == 3 and not any(c["saved"] for c in art.get_content())
    assert art.save("notes.maif") == "notes.maif"
    again = Artifact.load("notes.maif", client)
    content = again.get_content()
    assert [c["block_id"] for c in content] == [tid, eid, iid]
    assert content[0]["data"] == "The meeting moved to Tuesday."
    assert content[0]["metadata"] == {"language": "en", "title": "memo"}
    assert [round(x, 6) for x in content[1]["data"][0]] == [0.6, 0.8]
    assert content[1]["metadata"]["model"] == "mini" and content[1]["metadata"]["normalized"] is True
    assert content[2]["metadata"] == {"format": "png"}
    assert again.verify()
    again.add_text("appended later")
    again.save()
    r = maif.Reader("notes.maif")
    assert len(r) == 4 and r.info()["commit_count"] >= 3  # the create, the first save, the append
    r.close()


def test_unknown_options_raise():
    with pytest.raises(TypeError, match="unknown option"):
        create_client("x", use_aws=True)


def test_search_by_vector_ranks_embeddings():
    art = create_artifact("vecs", create_client("x"))
    a = art.add_embedding([1.0, 0.0, 0.0])
    b = art.add_embedding([0.0, 1.0, 0.0])
    c = art.add_embedding([0.7, 0.7, 0.0])
    art.save("v.maif")
    hits = art.search([1.0, 0.1, 0.0], top_k=2)
    assert [h["block_id"] for h in hits] == [a, c]
    assert hits[0]["score"] > hits[1]["score"]
    assert b not in [h["block_id"] for h in art.search([1.0, 0.0, 0.0], top_k=2)]


def test_compression_option_compresses():
    client = create_client("x", enable_compression=True)
    art = create_artifact("z", client)
    art.add_text("compress me " * 500)
    art.save("z.maif")
    with maif.Reader("z.maif") as r:
        v = r.block(0)
        assert v.codec == maif._lib.CODEC_ZSTD and v.payload_size < 6000
    assert Artifact.load("z.maif", client).get_content()[0]["data"] == "compress me " * 500
    with pytest.raises(maif.MAIFError, match="zstd"):
        create_client("x", compression="brotli")


def test_encryption_option_seals_for_the_client():
    owner = create_client("owner", key=maif.Key.generate(), encryption_algorithm="xchacha20-poly1305")
    art = create_artifact("secret", owner)
    art.add_text("for my eyes only")
    art.save("s.maif")
    assert b"for my eyes" not in open("s.maif", "rb").read()
    assert Artifact.load("s.maif", owner).get_content()[0]["data"] == "for my eyes only"
    stranger = create_client("stranger", key=maif.Key.generate())
    with pytest.raises(maif.MAIFAccessError, match="no usable key"):
        Artifact.load("s.maif", stranger).get_content()
    assert maif.verify("s.maif").ok  # verification needs no key


def test_encryption_for_recipients_and_passphrase():
    reader_key = maif.Key.generate()
    writer = create_client("w", key=maif.Key.generate(), encryption_algorithm="chacha20-poly1305",
                           recipients=[reader_key.public_key], passphrase="correct horse", kdf="pbkdf2")
    art = create_artifact("shared", writer)
    art.add_text("shared secret")
    art.save("r.maif")
    by_key = create_client("r", key=reader_key)
    assert Artifact.load("r.maif", by_key).get_content()[0]["data"] == "shared secret"
    by_pass = create_client("p", key=maif.Key.generate(), passphrase="correct horse")
    assert Artifact.load("r.maif", by_pass).get_content()[0]["data"] == "shared secret"
    with pytest.raises(ValueError, match="unknown encryption"):
        create_client("x", encryption_algorithm="rot13")


def test_require_signatures_and_trusted_keys():
    from conftest import flip_byte, offset_of
    k = maif.Key.generate()
    art = create_artifact("signed", create_client("s", key=k))
    art.add_text("authentic")
    art.save("a.maif")
    assert Artifact.load("a.maif", create_client("r", trusted_keys=[k])).get_content()[0]["data"] == "authentic"
    with pytest.raises(maif.MAIFVerifyError):
        Artifact.load("a.maif", create_client("r", trusted_keys=[maif.Key.generate()]))
    flip_byte("a.maif", offset_of("a.maif", b"authentic"))
    with pytest.raises(maif.MAIFVerifyError, match="does not verify"):
        Artifact.load("a.maif", create_client("r"))
    lax = Artifact.load("a.maif", create_client("r", require_signatures=False))
    assert lax.get_content()[0]["data"] != "authentic" and not lax.verify()


def test_max_concurrent_writers_bounds_parallel_saves():
    client = create_client("many", max_concurrent_writers=2)
    errors = []

    def work(i):
        try:
            a = create_artifact("a%d" % i, client)
            for j in range(20):
                a.add_text("thread %d line %d" % (i, j))
            a.save("t%d.maif" % i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(6):
        assert maif.verify("t%d.maif" % i).ok
    with pytest.raises(ValueError):
        create_client("x", max_concurrent_writers=0)


def test_cache_size_keeps_decoded_payloads():
    client = create_client("c", cache_size=2)
    art = create_artifact("c", client)
    for i in range(3):
        art.add_text("block %d" % i)
    art.save("c.maif")
    art.get_content()
    assert len(client._cache) == 2
    off = create_client("c", cache_size=0)
    Artifact.load("c.maif", off).get_content()
    assert len(off._cache) == 0


def test_v21_format_option_and_append():
    client = create_client("v", format="v21")
    art = create_artifact("old", client)
    art.add_text("first")
    art.save("v21.maif")
    art.add_text("second")
    art.save()
    with maif.MAIFDecoder("v21.maif") as d:
        assert d.get_file_info()["version"] == "2.1"
        assert [d.get_text_content(i) for i in range(2)] == ["first", "second"]
        assert d.verify_integrity()[0]
    with pytest.raises(ValueError, match="2.1"):
        create_client("v", format="v21", encryption_algorithm="xchacha20")


def test_save_as_carries_the_saved_blocks():
    client = create_client("s")
    art = create_artifact("a", client)
    art.add_text("first")
    art.save("one.maif")
    art.add_text("second")
    art.save("two.maif")
    assert [c["data"] for c in Artifact.load("two.maif", client).get_content()] == ["first", "second"]
    assert [c["data"] for c in Artifact.load("one.maif", client).get_content()] == ["first"]


ICON = "/usr/share/icons/Adwaita/512x512/devices/camera-web.png"


def test_add_image_extract_features(tmp_path):
    art = create_artifact("pics", create_client("x", extract_features=True))
    art.add_image(ICON, metadata={"source": "icon", "width": 1})
    path = str(tmp_path / "pics.maif")
    art.save(path)
    r = maif.Reader(path)
    meta = r.block(0).metadata
    r.close()
    assert meta["source"] == "icon" and meta["width"] == 1          # the caller's keys win
    assert meta["height"] == 512 and meta["format"] == "png"
    assert len(meta["phash"]) == 16 and len(meta["color_histogram"]) == 72
    with pytest.raises(maif.MAIFError, match="PNG"):
        art.add_image(b"\x89PNG\r\n\x1a\n broken", extract_features=True)


def _models():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    d = os.environ.get("MAIF_MODELS") or os.path.join(root, "build", "cache", "models")
    ok = all(os.path.isfile(os.path.join(d, f)) for f in ("lid.176.ftz", "vader_lexicon.txt"))
    return d if ok else None


@pytest.mark.skipif(_models() is None, reason="lid.176.ftz / vader_lexicon.txt absent (make lang-data)")
def test_add_text_language_and_sentiment(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIF_MODELS", _models())
    art = create_artifact("notes", create_client("x", sentiment_analysis=True))
    art.add_text("I really love this wonderful library, it is great!", language="auto")
    art.add_text("Ceci est une phrase en français, écrite pour le test.", language="auto", sentiment_analysis=False)
    art.add_text("plain", language="en", metadata={"source": "chat"})
    path = str(tmp_path / "notes.maif")
    art.save(path)
    r = maif.Reader(path)
    m0, m1, m2 = (r.block(i).metadata for i in range(3))
    r.close()
    assert m0["language"] == "en" and 0 < m0["language_confidence"] <= 1
    assert m0["sentiment"]["compound"] > 0.5 and set(m0["sentiment"]) == {"compound", "neg", "neu", "pos"}
    assert m1["language"] == "fr" and "sentiment" not in m1
    assert m2 == {"language": "en", "sentiment": m2["sentiment"], "source": "chat"}


def test_add_text_missing_model(tmp_path, monkeypatch):
    monkeypatch.setenv("MAIF_MODELS", str(tmp_path))
    art = create_artifact("notes", create_client("x"))
    with pytest.raises(maif.MAIFError, match="lid.176.ftz"):
        art.add_text("hello", language="auto")


def test_search_text(tmp_path):
    art = create_artifact("notes", create_client("x", enable_semantic_search=True))
    art.add_text("The deploy failed because the TLS certificate expired.")
    art.add_text("Lunch was pasta with tomatoes.")
    art.add_text("Renew the certificate before Friday.")
    path = str(tmp_path / "notes.maif")
    with pytest.raises(ValueError, match="not been saved"):
        art.search("certificate")
    art.save(path)
    hits = art.search("why did the deploy fail", top_k=2)
    assert len(hits) == 2 and "deploy failed" in hits[0]["text"]
    assert hits[0]["score"] >= hits[1]["score"]
    # without embeddings, words alone (BM25)
    plain = create_artifact("plain", create_client("x"))
    plain.add_text("pasta for lunch")
    plain.add_text("certificate renewal")
    plain.save(str(tmp_path / "plain.maif"))
    assert "certificate" in plain.search("certificate", top_k=1)[0]["text"]
