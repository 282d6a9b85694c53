"""The compatibility layer, exercised the way the original project's own
examples and tests use it (create -> verify -> inspect -> tamper ->
detect), with only the calls its public API has. Written for this package;
each test names the flow of the original it follows."""
import glob
import os
import shutil

import pytest

from conftest import V21_SAMPLES, flip_byte, offset_of

TEXTS = [
    "Artificial intelligence is transforming how we work and live.",
    "Machine learning models require careful validation and testing.",
    "Trustworthy AI systems need transparency and accountability.",
]


def _write_demo(path, **kw):
    from maif.secure_format import SecureMAIFWriter
    writer = SecureMAIFWriter(file_path=path, agent_id="demo-agent-001", agent_did="did:maif:demo-agent-001", **kw)
    ids = [writer.add_text_block(t, metadata={"source": "document_%d.txt" % i, "language": "en"})
           for i, t in enumerate(TEXTS)]
    embeddings = [[0.1 * i + 0.01 * j for j in range(384)] for i in range(3)]
    ids.append(writer.add_embeddings_block(embeddings, metadata={"model": "all-MiniLM-L6-v2", "source": "demo"}))
    writer.finalize()
    return ids


@pytest.mark.parametrize("fmt", ["native", "v21"])
def test_secure_demo_create_and_verify(fmt):
    """secure_maif_demo: writer -> finalize -> reader.verify_integrity, file info, blocks, provenance."""
    from maif.secure_format import SecureBlockType, SecureMAIFReader
    ids = _write_demo("demo_secure.maif", format=fmt)
    assert all(isinstance(i, str) and len(i) == 32 for i in ids)
    reader = SecureMAIFReader("demo_secure.maif")
    is_valid, errors = reader.verify_integrity()
    assert is_valid and errors == []
    info = reader.get_file_info()
    assert info["agent_did"] == "did:maif:demo-agent-001"
    assert info["block_count"] == 4 and info["is_signed"] and info["is_finalized"]
    assert len(info["merkle_root"]) == 64 and len(info["file_id"]) == 32
    assert info["version"] == ("2.1" if fmt == "v21" else info["version"])
    names = [SecureBlockType(b.header.block_type).name for b in reader.get_blocks()]
    assert names == ["TEXT", "TEXT", "TEXT", "EMBEDDINGS"]
    assert [b.block_id for b in reader.blocks] == ids
    assert not any(b.header.flags & 0x20 for b in reader.get_blocks())
    assert reader.get_text_content(1) == TEXTS[1]
    assert reader.get_text_content(3) is None
    emb = reader.get_embeddings_content(3)
    assert len(emb) == 3 and len(emb[0]) == 384 and abs(emb[2][5] - 0.25) < 1e-6
    assert reader.blocks[3].metadata["count"] == 3 and reader.blocks[3].metadata["dimensions"] == 384
    assert reader.blocks[0].metadata == {"language": "en", "source": "document_0.txt"}
    prov = reader.get_provenance()
    assert len(prov) >= 4
    actions = [e.action for e in prov]
    assert actions.count("add_text_block") == 3 and "add_embeddings_block" in actions
    assert all(e.agent_did == "did:maif:demo-agent-001" for e in prov)


@pytest.mark.parametrize("fmt", ["native", "v21"])
def test_secure_demo_tamper_detection(fmt):
    """secure_maif_demo: change bytes of a block's data, verification fails and names the block."""
    from maif.secure_format import SecureMAIFReader, verify_secure_maif
    _write_demo("demo_secure.maif", format=fmt)
    shutil.copy("demo_secure.maif", "tampered.maif")
    flip_byte("tampered.maif", offset_of("tampered.maif", b"Machine learning") + 3)
    reader = SecureMAIFReader("tampered.maif")
    is_valid, errors = reader.verify_integrity()
    assert not is_valid and errors
    assert reader.is_tampered()
    assert 1 in reader.get_tampered_blocks()
    assert reader.get_blocks()[1].header.flags & 0x20
    ok, report = verify_secure_maif("tampered.maif")
    assert not ok and report["tampering_detected"] and 1 in report["tampered_blocks"]
    assert verify_secure_maif("demo_secure.maif")[0]


def test_secure_demo_embedded_manifest():
    """secure_maif_demo: export_manifest from the file alone."""
    from maif.secure_format import SecureMAIFReader
    _write_demo("demo_secure.maif")
    reader = SecureMAIFReader("demo_secure.maif")
    reader.load()
    manifest = reader.export_manifest()
    assert len(manifest["blocks"]) == 4
    assert len(manifest["provenance"]) >= 4
    assert manifest["security"]["key_algorithm"] == "Ed25519"
    assert manifest["maif_version"] and manifest["format"] in ("native", "v21")
    b = manifest["blocks"][0]
    assert {"index", "type", "block_id", "size", "content_hash", "timestamp", "is_signed", "is_tampered",
            "metadata"} <= set(b)
    assert b["type"] == "TEXT" and b["is_signed"] and not b["is_tampered"]


def test_quick_start_from_package_docstring():
    """The original's package quick start: encoder, decoder, verify, get_blocks."""
    from maif import MAIFDecoder, MAIFEncoder
    encoder = MAIFEncoder("output.maif", agent_id="my-agent")
    encoder.add_text_block("Hello, world!")
    encoder.finalize()
    decoder = MAIFDecoder("output.maif")
    is_valid, errors = decoder.verify_integrity()
    assert is_valid
    blocks = decoder.get_blocks()
    assert len(blocks) == 1 and blocks[0].data == b"Hello, world!" and blocks[0].block_type_name == "TEXT"


def test_binary_blocks_and_types():
    from maif import BlockType, MAIFDecoder, MAIFEncoder
    enc = MAIFEncoder("bin.maif", "agent")
    a = enc.add_binary_block(b"\x00\x01\x02", metadata={"k": "v"})
    b = enc.add_binary_block(b"\x89PNG....", BlockType.IMAGE)
    c = enc.add_block(b"{\"s\": 1}", BlockType.KNOWLEDGE, {"kind": "triples"})
    enc.finalize()
    dec = MAIFDecoder("bin.maif")
    assert [x.block_id for x in dec.blocks] == [a, b, c]
    assert [x.block_type_name for x in dec.blocks] == ["BINARY", "IMAGE", "KNOW"]
    assert dec.get_block(0).data == b"\x00\x01\x02" and dec.get_block(0).metadata == {"k": "v"}
    assert dec.get_block(9) is None
    assert BlockType.TEXT == 0x54455854 and BlockType.EMBEDDINGS == 0x454D4244


def test_finalize_twice_and_add_after_finalize():
    from maif import MAIFEncoder
    enc = MAIFEncoder("x.maif", "agent")
    enc.add_text_block("one")
    enc.finalize()
    with pytest.raises(RuntimeError):
        enc.add_text_block("two")
    with pytest.raises(RuntimeError):
        enc.finalize()


def test_create_and_verify_maif_report_keys():
    """create_maif(output_path, agent_id, content) / verify_maif(path) -> (bool, report)."""
    from maif import create_maif, verify_maif
    path = create_maif("c.maif", "agent-c", {
        "texts": ["plain", {"content": "with meta", "metadata": {"tag": 1}}],
        "embeddings": [[0.5, 0.25], [1.0, 2.0]], "embeddings_metadata": {"model": "m"},
        "binaries": [{"data": b"raw", "metadata": {"n": 2}}],
    })
    assert path == "c.maif"
    ok, report = verify_maif(path)
    assert ok
    for key in ("file_path", "is_valid", "tampering_detected", "tampered_blocks", "errors", "file_info",
                "block_count", "provenance_entries"):
        assert key in report
    assert report["block_count"] == 4 and report["errors"] == [] and report["tampered_blocks"] == []
    assert report["file_info"]["agent_did"] == "did:maif:agent-c"


def test_quick_create_verify_read():
    from maif import quick_create, quick_read, quick_verify
    quick_create("q.maif", texts=["a", "b"], embeddings=[[1.0, 0.0]], agent_id="quick", metadata={"run": 7})
    assert quick_verify("q.maif")
    m = quick_read("q.maif")
    assert [b["metadata"]["index"] for b in m["blocks"][:2]] == [0, 1]
    assert m["blocks"][0]["metadata"]["run"] == 7
    assert m["blocks"][2]["type"] == "EMBEDDINGS"
    flip_byte("q.maif", offset_of("q.maif", b"\x00\x00\x80\x3f"))  # 1.0f of the embedding
    assert not quick_verify("q.maif")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(V21_SAMPLES, "*.maif"))))
def test_reads_files_written_by_the_original(path):
    """MAIF 2.1 samples written by the original implementation read and verify."""
    from maif import MAIFDecoder, verify_maif
    ok, report = verify_maif(path)
    assert ok, report["errors"]
    dec = MAIFDecoder(path)
    info = dec.get_file_info()
    assert info["version"] == "2.1" and info["agent_did"].startswith("did:maif:")
    assert len(dec.blocks) == info["block_count"] >= 1
    prov = dec.get_provenance()
    assert prov[0].action == "genesis" and prov[-1].action == "finalize"
    assert dec.get_security_info()["key_algorithm"] == "Ed25519"
    for i, b in enumerate(dec.blocks):
        assert len(b.data) == b.header.size - 372 - b.header.metadata_size
        if b.block_type_name == "TEXT":
            assert dec.get_text_content(i)
        if b.block_type_name == "EMBED":
            rows = dec.get_embeddings_content(i)
            assert len(rows[0]) == b.metadata["dimensions"]
    dec.close()


def test_original_file_tampered_is_detected():
    from maif import MAIFDecoder
    shutil.copy(os.path.join(V21_SAMPLES, "sample_text.maif"), "t.maif")
    flip_byte("t.maif", offset_of("t.maif", b"sample text document") + 2)
    dec = MAIFDecoder("t.maif")
    ok, errors = dec.verify_integrity()
    assert not ok and dec.get_tampered_blocks() == [0]
    assert any("block 0" in e for e in errors)


def test_v21_written_here_round_trips_through_native():
    import maif
    from maif import MAIFDecoder
    _write_demo("d21.maif", format="v21")
    maif.convert("d21.maif", "dn.maif", to="native")
    maif.convert("dn.maif", "d21b.maif", to="v21")
    for p in ("dn.maif", "d21b.maif"):
        dec = MAIFDecoder(p)
        assert dec.verify_integrity()[0]
        assert [dec.get_text_content(i) for i in range(3)] == TEXTS
    assert MAIFDecoder("d21b.maif").get_file_info()["version"] == "2.1"


def test_same_private_key_same_signer(tmp_path):
    import maif
    key = maif.Key.generate()
    for name in ("k1.maif", "k2.maif"):
        enc = maif.MAIFEncoder(name, "agent", private_key=key)
        enc.add_text_block(name)
        enc.finalize()
    s1 = maif.MAIFDecoder("k1.maif").get_file_info()["signer"]
    assert s1 == maif.MAIFDecoder("k2.maif").get_file_info()["signer"] == key.public_key.hex()
    assert maif.verify_maif("k1.maif", trusted_keys=[key])[0]
    assert not maif.verify_maif("k1.maif", trusted_keys=[maif.Key.generate()])[0]
    key.save(str(tmp_path / "agent.key"))
    enc = maif.MAIFEncoder("k3.maif", "agent", private_key=str(tmp_path / "agent.key"))
    enc.add_text_block("from a key file")
    enc.finalize()
    assert maif.MAIFDecoder("k3.maif").get_file_info()["signer"] == key.public_key.hex()


def test_cryptography_private_key_is_accepted():
    """The original took a cryptography Ed25519PrivateKey; its seed signs here."""
    ed = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    from cryptography.hazmat.primitives import serialization as s
    import maif
    pk = ed.Ed25519PrivateKey.generate()
    enc = maif.MAIFEncoder("c.maif", "agent", private_key=pk)
    enc.add_text_block("signed by a cryptography key")
    enc.finalize()
    want = pk.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
    assert maif.MAIFDecoder("c.maif").get_file_info()["signer"] == want


def test_abandoned_encoder_leaves_nothing():
    from maif import MAIFEncoder
    with pytest.raises(ZeroDivisionError):
        with MAIFEncoder("gone.maif", "agent") as enc:
            enc.add_text_block("never written")
            1 / 0
    assert os.listdir(".") == ["home"] or not any(n.endswith(".maif") or n.endswith(".tmp") for n in os.listdir("."))
    with MAIFEncoder("kept.maif", "agent") as enc:
        enc.add_text_block("written at exit")
    assert os.path.exists("kept.maif")


def test_damaged_files_give_a_verdict_not_a_crash():
    from maif import MAIFDecoder, MAIFFormatError, verify_maif
    _write_demo("whole.maif", format="v21")
    data = open("whole.maif", "rb").read()
    open("cut.maif", "wb").write(data[:len(data) // 2])  # a 2.1 file has a footer: a cut is damage
    open("junk.maif", "wb").write(b"MAIF" + b"\xff" * 600)
    for p in ("cut.maif", "junk.maif"):
        ok, report = verify_maif(p)
        assert not ok and report["errors"] and report["tampering_detected"]
        dec = MAIFDecoder(p)
        ok, errors = dec.verify_integrity()
        assert not ok and errors and dec.is_tampered()
    with pytest.raises(MAIFFormatError) as ei:
        MAIFDecoder("junk.maif").load()
    assert "junk.maif" in str(ei.value)


def test_cut_native_file_keeps_its_earlier_commits():
    """A native artifact cut inside a batch is its last whole commit plus a
    torn tail (what a crash leaves): valid, with a warning, as in the CLI."""
    from maif import MAIFEncoder, verify_maif
    enc = MAIFEncoder("n.maif", "agent")
    enc.add_text_block("a" * 4000)
    enc.finalize()
    data = open("n.maif", "rb").read()
    open("cut.maif", "wb").write(data[:len(data) - 100])
    ok, report = verify_maif("cut.maif")
    assert ok and report["block_count"] == 0 and report["warnings"]


def test_basic_usage_flow_with_the_parser():
    """basic_usage: encoder with metadata'd embeddings, verify_maif, decoder
    listing, provenance, security, then MAIFParser."""
    from maif import BlockType, MAIFDecoder, MAIFEncoder, MAIFParser, verify_maif
    encoder = MAIFEncoder("sample.maif", agent_id="demo-agent-001")
    encoder.add_text_block("This is the first text block.", metadata={"source": "demo", "language": "en"})
    encoder.add_text_block("MAIF provides verifiable storage.", metadata={"source": "demo", "topic": "d"})
    rows = [[0.1, 0.2, 0.3, 0.4, 0.5] * 20, [0.2, 0.3, 0.4, 0.5, 0.6] * 20]
    encoder.add_embeddings_block(rows, metadata={"model": "demo-embeddings", "dimensions": 100})
    encoder.finalize()
    is_valid, report = verify_maif("sample.maif")
    assert is_valid, report.get("errors")
    decoder = MAIFDecoder("sample.maif")
    decoder.load()
    info = decoder.get_file_info()
    assert info["block_count"] == 3 and info["is_signed"] and info["agent_did"] == "did:maif:demo-agent-001"
    kinds = [(BlockType(b.header.block_type).name, bool(b.header.flags & 0x01)) for b in decoder.blocks]
    assert kinds == [("TEXT", True), ("TEXT", True), ("EMBEDDINGS", True)]
    texts = [decoder.get_text_content(i) for i, b in enumerate(decoder.blocks)
             if b.header.block_type == BlockType.TEXT]
    assert texts[1] == "MAIF provides verifiable storage."
    assert [e.agent_id for e in decoder.provenance] == ["demo-agent-001"] * 3
    assert decoder.get_security_info()["signer_id"] == "demo-agent-001"
    parser = MAIFParser("sample.maif")
    assert parser.load()
    assert len(parser.blocks) == 3 and len(parser.provenance) == 3
    assert parser.blocks[0].block_type == "TEXT" and parser.blocks[0].previous_hash is None
    assert parser.blocks[1].previous_hash == parser.blocks[0].hash
    assert parser.get_block_data(0) == b"This is the first text block."
    assert parser.verify() == (True, [])
    assert parser.header.agent_id == "did:maif:demo-agent-001"
