"""The simple API (maif_api.MAIF), in the style of the original's
simple_api_demo: chain, save, load, inspect, verify."""
import pytest

from conftest import flip_byte, offset_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def test_chain_save_load_verify():
    from maif_api import MAIF
    maif = MAIF("my-agent")
    assert maif.add_text("Hello, world!") is maif
    maif.add_text("This is AI-generated content", metadata={"model": "m1"}).add_embeddings([[0.1, 0.2, 0.3]])
    maif.add_binary(b"\x01\x02", name="blob")
    assert maif.texts == ["Hello, world!", "This is AI-generated content"]
    assert maif.verify()  # nothing loaded yet: True, as in the original
    assert maif.save("output.maif") == "output.maif"

    loaded = MAIF.load("output.maif")
    assert loaded.texts == ["Hello, world!", "This is AI-generated content"]
    assert loaded.agent_id == "my-agent"
    assert loaded.verify() and not loaded.is_tampered()
    assert [round(x, 6) for x in loaded.embeddings[0]] == [0.1, 0.2, 0.3]
    blocks = loaded.blocks
    assert len(blocks) == 4 and blocks[1]["metadata"] == {"model": "m1"}
    assert blocks[3]["metadata"] == {"name": "blob"}
    assert {"index", "type", "size", "hash", "metadata"} <= set(blocks[0])
    assert len(loaded.provenance) == 4
    assert loaded.file_info["block_count"] == 4
    assert "Blocks: 4" in loaded.summary()
    loaded.close()


def test_load_on_an_instance_and_tamper():
    from maif_api import MAIF
    MAIF("a").add_text("keep me intact").save("t.maif")
    m = MAIF()
    assert m.load("t.maif") is m and m.texts == ["keep me intact"]
    m.close()
    flip_byte("t.maif", offset_of("t.maif", b"keep me") + 1)
    m = MAIF.load("t.maif")
    assert not m.verify() and m.is_tampered()


def test_add_image_and_v21(tmp_path):
    from maif_api import MAIF
    from maif import BlockType
    img = tmp_path / "pic.png"
    img.write_bytes(PNG)
    MAIF("imager").add_image(str(img), metadata={"alt": "x"}).add_text("caption").save("i.maif", format="v21")
    m = MAIF.load("i.maif")
    assert m.file_info["version"] == "2.1" and m.verify()
    b = m.blocks[0]
    assert b["type"] == BlockType.IMAGE and b["metadata"]["filename"] == "pic.png" and b["metadata"]["alt"] == "x"
    assert m._decoder.blocks[0].data == PNG


def test_load_missing_file():
    from maif_api import MAIF
    with pytest.raises(FileNotFoundError):
        MAIF.load("nope.maif")


def test_module_helpers():
    import maif_api
    maif_api.quick_text_maif("just text", "qt.maif")
    maif_api.quick_multimodal_maif(["a", "b"], [[1.0, 2.0]], "qm.maif")
    assert maif_api.load_maif("qt.maif").texts == ["just text"]
    m = maif_api.load_maif("qm.maif")
    assert m.texts == ["a", "b"] and m.embeddings == [[1.0, 2.0]] and m.agent_id == "multimodal"
    maif_api.create_maif("cm.maif", texts=["x"], agent_id="z")
    assert maif_api.MAIF.load("cm.maif").agent_id == "z"


def test_bad_input_raises_with_the_library_message():
    from maif_api import MAIF
    import maif
    with pytest.raises(maif.MAIFError) as ei:
        MAIF("a").add_embeddings([[1.0, float("nan")]]).save("nan.maif")
    assert "NaN" in str(ei.value)
    with pytest.raises(maif.MAIFValueError) as ei:
        MAIF("a").add_embeddings([[1e39]]).save("big.maif")  # not a finite float32
    assert "float32" in str(ei.value)
    with pytest.raises(TypeError):
        MAIF("a").add_text(b"bytes are not text")
