"""Shared fixtures: the package from this tree, a private MAIF_HOME per
test (the default key lives there), and the MAIF 2.1 samples."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))
V21_SAMPLES = os.path.join(ROOT, "tests", "data", "v21")


@pytest.fixture(autouse=True)
def maif_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MAIF_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def offset_of(path, needle):
    with open(path, "rb") as f:
        data = f.read()
    i = data.find(needle)
    assert i >= 0, "%r not in %s" % (needle, path)
    return i
