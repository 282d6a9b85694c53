"""The library's own objects: errors carry its messages, handles are
context managers, keys, verify/convert, supersedes history, threads."""
import ctypes
import threading

import pytest

import maif
from maif import _lib


def test_library_loaded_with_gil_release():
    # ctypes.CDLL (not PyDLL) releases the GIL for every foreign call.
    assert type(_lib.lib) is ctypes.CDLL
    assert maif.version() == maif.__version__ and maif.__version__.count(".") == 2


def test_errors_carry_the_library_message():
    with pytest.raises(maif.MAIFNotFoundError) as ei:
        maif.Reader("missing.maif")
    e = ei.value
    assert isinstance(e, FileNotFoundError) and isinstance(e, maif.MAIFError)
    assert e.code == _lib.ENOTFOUND and e.name == "MAIF_ENOTFOUND" and "missing.maif" in str(e)
    open("junk.maif", "wb").write(b"this is not an artifact at all" * 10)
    with pytest.raises(maif.MAIFFormatError) as ei:
        maif.Reader("junk.maif")
    assert "junk.maif" in str(ei.value)
    with maif.Writer("w.maif", maif.Key.generate()) as w:
        with pytest.raises(maif.MAIFValueError):
            w.add("text", "x", metadata='{"a": 1, "a": 2}')  # duplicate keys: the library refuses
        with pytest.raises(maif.MAIFValueError):
            w.add("nonsense-type", b"x")
    with pytest.raises(maif.MAIFExistsError):
        maif.Writer("w.maif", maif.Key.generate())


def test_writer_commits_or_rolls_back():
    k = maif.Key.generate()
    with maif.Writer("a.maif", k, agent_id="bot") as w:
        bid = w.add("text", "kept", {"n": 1})
        assert len(bid) == 16 and len(w) == 1
    with pytest.raises(RuntimeError):
        with maif.Writer("a.maif", k, mode="a") as w:
            w.add("text", "dropped")
            raise RuntimeError("abandon the batch")
    with maif.Reader("a.maif") as r:
        assert len(r) == 1 and r.read(0) == b"kept" and r.block(0).metadata == {"n": 1}
        assert r.find(bid) == 0 and r.info()["agent"] == "bot" and r.format == "native"
        assert r.info()["content_hash"] == "sha256"
        assert [k for k, *_ in r.records()].count("commit") >= 2
    assert r.closed
    with pytest.raises(ValueError, match="closed"):
        len(r)


def test_blake3_content_hash():
    k = maif.Key.generate()
    with maif.Writer("b3.maif", k, content_hash="blake3") as w:
        w.add("binary", bytes(range(256)) * 5000)
    with maif.Writer("b3.maif", k, mode="a") as w:  # appending keeps the file's function
        w.add("text", "more")
    with maif.Reader("b3.maif") as r:
        assert r.info()["content_hash"] == "blake3" and r.read(1) == b"more"
    assert maif.verify("b3.maif").ok
    with pytest.raises(ValueError, match="content_hash"):
        maif.Writer("x.maif", k, content_hash="md5")


def test_supersedes_history():
    k = maif.Key.generate()
    with maif.Writer("h.maif", k) as w:
        v1 = w.add("text", "v1")
        v2 = w.add("text", "v2", supersedes=v1)
        v3 = w.add("text", "v3", supersedes=v2)
    with maif.Reader("h.maif") as r:
        assert r.history(v3) == [0, 1, 2] and r.block(2).supersedes == v2


def test_keys_seed_save_load(tmp_path):
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    k = maif.Key.from_seed(seed)
    assert k.public_key.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    p = str(tmp_path / "k.key")
    k.save(p)
    with maif.Key.load(p) as k2:
        assert k2.public_key == k.public_key
    assert k2.closed
    d = maif.Key.default()
    assert d.path.endswith("default.key") and maif.Key.default().public_key == d.public_key
    with pytest.raises(ValueError):
        maif.Key.from_seed(b"short")
    with pytest.raises(maif.MAIFAccessError):
        maif.Key.load(p + ".pub")


def test_verify_bytes_and_report():
    with maif.Writer("v.maif", maif.Key.generate()) as w:
        w.add("json", b'{"x": 1}')
    data = open("v.maif", "rb").read()
    rep = maif.verify(data=data)
    assert rep.ok and rep.format == "native" and rep.blocks == 1 and len(rep.signers) == 1
    bad = bytearray(data)
    bad[len(bad) // 3] ^= 0xFF
    rep = maif.verify(data=bytes(bad))
    assert not rep.ok and rep.errors and all(isinstance(f.code, str) for f in rep.findings)


def test_convert_refuses_a_damaged_source():
    with maif.Writer("src.maif", maif.Key.generate()) as w:
        w.add("text", "original words")
    data = bytearray(open("src.maif", "rb").read())
    i = data.find(b"original")
    data[i] ^= 1
    open("bad.maif", "wb").write(bytes(data))
    with pytest.raises(maif.MAIFVerifyError):
        maif.convert("bad.maif", "out.maif", to="v21")
    rep = maif.convert("src.maif", "out.maif", to="v21")
    assert rep.ok and maif.verify("out.maif").format == "v21"


def test_threads_share_a_reader():
    k = maif.Key.generate()
    with maif.Writer("many.maif", k) as w:
        for i in range(200):
            w.add("text", "block %d" % i)
    r = maif.Reader("many.maif")
    bad = []

    def work(t):
        for i in range(t, 200, 4):
            if r.read(i) != b"block %d" % i:
                bad.append(i)
        if not maif.verify("many.maif").ok:
            bad.append("verify")

    ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    r.close()
    assert bad == []


def test_numpy_embeddings_when_available():
    np = pytest.importorskip("numpy")
    enc = maif.MAIFEncoder("np.maif", "agent")
    enc.add_embeddings_block(np.arange(12, dtype=np.float32).reshape(3, 4), {"model": "arange"})
    enc.finalize()
    with maif.MAIFDecoder("np.maif") as d:
        arr = d.get_embeddings_content(0, as_numpy=True)
        assert arr.shape == (3, 4) and arr.dtype == np.float32 and float(arr[2, 3]) == 11.0
        assert d.blocks[0].metadata == {"count": 3, "dimensions": 4, "dtype": "float32", "model": "arange"}


def test_decoder_with_a_keyring_opens_encrypted_blocks():
    owner = maif.Key.generate()
    with maif.Keyring(recipients=[owner]) as kr:
        with maif.Writer("e.maif", owner) as w:
            w.encrypt(kr, "xchacha20-poly1305")
            w.add("text", "sealed words")
    with pytest.raises(maif.MAIFAccessError, match="no usable key"):
        maif.MAIFDecoder("e.maif").blocks[1].data  # block 0 is the key-wrap block
    kr = maif.Keyring(identities=[owner])
    with maif.MAIFDecoder("e.maif", keyring=kr) as d:
        b = d.blocks[1]
        assert b.encrypted and b.header.flags & maif.BlockFlags.ENCRYPTED
        assert d.get_text_content(1) == "sealed words"
        assert d.blocks[0].fourcc == "KEYW"
    assert maif.verify_maif("e.maif")[0]


def test_reader_follows_a_writer():
    k = maif.Key.generate()
    with maif.Writer("f.maif", k) as w:
        w.add("text", "one")
    r = maif.Reader("f.maif")
    assert len(r) == 1 and not r.refresh()
    with maif.Writer("f.maif", k, mode="a") as w:
        w.add("text", "two")
    assert len(r) == 1 and r.refresh() and len(r) == 2 and r.read(1) == b"two"
    r.close()


def test_keystore_shreds_a_block(tmp_path):
    owner = maif.Key.generate()
    master = tmp_path / "a.master"
    with pytest.raises(maif.MAIFNotFoundError):
        maif.Keystore(tmp_path / "a.keystore", master)
    ks = maif.Keystore(tmp_path / "a.keystore", master, create=True)
    with maif.Writer("s.maif", owner) as w:
        w.encrypt_shreddable(ks)
        w.add("text", "forget me")
        w.encrypt_shreddable(ks, "chacha20")
        w.add("text", "keep me")
    assert len(ks) == 2
    backup = (tmp_path / "a.keystore").read_bytes()
    kr = maif.Keyring()
    kr.add_keystore(ks)
    with maif.Reader("s.maif", keyring=kr) as r:
        assert r.read(0) == b"forget me"
    with maif.Writer("s.maif", owner, mode="a") as w:
        assert ks.shred(w, [0], punch=True) == 1
        with pytest.raises(maif.MAIFValueError, match="not shreddable|not encrypted"):
            ks.shred(w, [2])  # the erasure record itself
    assert len(ks) == 1
    with maif.Reader("s.maif", keyring=kr) as r:
        with pytest.raises(maif.MAIFAccessError):
            r.read(0)
        assert r.read(1) == b"keep me"
    # the keystore as it was before opens nothing: its master key is gone
    (tmp_path / "old.keystore").write_bytes(backup)
    with pytest.raises(maif.MAIFError, match="master key"):
        maif.Keystore(tmp_path / "old.keystore", master)
    rep = maif.verify("s.maif")
    assert rep.ok and any(f.code == "erased" for f in rep.findings)
    ks.rekey()
    with maif.Reader("s.maif", keyring=kr) as r:
        assert r.read(1) == b"keep me"
    ks.close()


def test_verify_chains_with_crls(tmp_path):
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "root.key", "-subj", "/CN=Py-Root", "-days", "30", "-out", "root.pem"],
                   check=True, capture_output=True)
    with maif.Writer("c.maif", maif.Key.generate()) as w:
        w.add("text", "no certificate attached")
    rep = maif.verify_chains("c.maif", "root.pem")
    assert not rep.ok and [f.code for f in rep.findings] == ["identity-no-chain"]
    with pytest.raises(maif.MAIFFormatError, match="CRL"):
        maif.verify_chains("c.maif", (tmp_path / "root.pem").read_bytes(), crls=b"not a CRL")


def test_trusted_timestamp(tmp_path):
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")

    def sh(*args):
        subprocess.run(args, check=True, capture_output=True)
    (tmp_path / "ext.cnf").write_text("[t]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                      "extendedKeyUsage=critical,timeStamping\n")
    (tmp_path / "tsa.cnf").write_text("[tsa]\ndefault_tsa = t\n[t]\nserial = ./serial\nsigner_cert = ./tsa.pem\n"
                                      "certs = ./tsa.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\n"
                                      "default_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\n")
    (tmp_path / "serial").write_text("01\n")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       "root.key", "-subj", "/CN=Py-TSA-Root", "-days", "30", "-out", "root.pem")
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       "tsa.key", "-subj", "/CN=Py-TSA", "-out", "tsa.csr")
    sh("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "5",
       "-days", "30", "-extfile", "ext.cnf", "-extensions", "t", "-out", "tsa.pem")
    key = maif.Key.generate()
    with maif.Writer("t.maif", key) as w:
        w.add("text", "worth a timestamp")
    (tmp_path / "q.tsq").write_bytes(maif.timestamp_query("t.maif"))
    sh("openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq", "-out", "r.tsr")
    with maif.Writer("t.maif", key, mode="a") as w:
        block_id, seq = w.add_timestamp((tmp_path / "r.tsr").read_bytes())
        with pytest.raises(maif.MAIFFormatError):
            w.add_timestamp(b"not a response")
    assert seq == 1 and len(block_id) == 16
    rep = maif.verify_identities("t.maif", tsa_roots="root.pem")
    assert rep.ok and [f.code for f in rep.findings] == ["timestamp"]
    with pytest.raises(maif.MAIFValueError):
        maif.verify_identities("t.maif")
