"""GGUF assembly from data parts (pure logic on real files): order, checks, a corrupt or missing part named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.errors import ModelNotReady
from shared.model_files import model_gguf
from shared.model_parts import Part, assemble_parts, installed_part
from shared.model_registry import MODELS, QWEN_0_5B


def _parts(tmp_path: Path, chunks: list[bytes]) -> tuple[list[Part], dict[str, Path]]:
    parts, where = [], {}
    for i, data in enumerate(chunks, 1):
        path = tmp_path / f"pkg{i}" / "data" / f"part{i:02d}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        part = Part(
            f"model-part{i}", "1.0", f"model_part{i}", f"data/part{i:02d}.bin", hashlib.sha256(data).hexdigest()
        )
        parts.append(part)
        where[part.module] = path
    return parts, where


CHUNKS = [b"GGUF" + b"a" * 3000, b"b" * 5000, b"c" * 17]
WHOLE = hashlib.sha256(b"".join(CHUNKS)).hexdigest()


def test_parts_are_concatenated_in_order_and_checked(tmp_path):
    parts, where = _parts(tmp_path, CHUNKS)
    out = assemble_parts(parts, WHOLE, tmp_path / "m.gguf", lambda p: where[p.module], progress=False)
    assert out.read_bytes() == b"".join(CHUNKS)
    assert assemble_parts(parts, WHOLE, out, lambda p: pytest.fail("re-read"), progress=False) == out, "kept"


def test_a_corrupt_part_is_refused_naming_its_package_and_nothing_is_left(tmp_path):
    parts, where = _parts(tmp_path, CHUNKS)
    where["model_part2"].write_bytes(b"b" * 4999 + b"X")
    with pytest.raises(ModelNotReady, match=r"model-part2: data/part02.bin is corrupt .*pip install --force-reinstall"):
        assemble_parts(parts, WHOLE, tmp_path / "m.gguf", lambda p: where[p.module], progress=False)
    assert not list(tmp_path.glob("m.gguf*")), "no partial file left behind"


def test_a_damaged_assembled_file_is_rebuilt_and_a_wrong_whole_refused(tmp_path):
    parts, where = _parts(tmp_path, CHUNKS)
    out = tmp_path / "m.gguf"
    out.write_bytes(b"truncated")
    assert assemble_parts(parts, WHOLE, out, lambda p: where[p.module], progress=False).read_bytes() == b"".join(CHUNKS)
    with pytest.raises(ModelNotReady, match="expected"):
        assemble_parts(parts, "0" * 64, tmp_path / "n.gguf", lambda p: where[p.module], progress=False)


def test_a_missing_package_is_named_with_its_install_command():
    part = Part("no-such-model-part7", "0.2.0", "no_such_model_part7", "data/part07.bin", "0" * 64)
    with pytest.raises(ModelNotReady, match=r"no-such-model-part7 is not installed: pip install .*==0\.2\.0"):
        installed_part(part)


def test_the_registry_pins_every_part():
    for model in MODELS.values():
        if not model.parts:
            continue
        assert len(model.sha256) == 64 and model.parts
        assert [p.file for p in model.parts] == [f"data/part{i:02d}.bin" for i in range(1, len(model.parts) + 1)]
        assert all(len(p.sha256) == 64 and p.version for p in model.parts)


@pytest.mark.model
@pytest.mark.parametrize("name", [m.name for m in MODELS.values()])
def test_every_known_model_is_installed_and_checks_out(name, hermetic_data_dir):
    """The pinned packages `make install` put here assemble to the recorded SHA-256 (re-checked, not rebuilt)."""
    path = model_gguf(hermetic_data_dir, name)
    assert path.stat().st_size > 50_000_000 and path.read_bytes()[:4] == b"GGUF"


@pytest.mark.model
def test_a_corrupt_installed_part_is_refused_by_its_hash(tmp_path):
    model = MODELS[QWEN_0_5B]
    bad = model.parts[-1]
    damaged = tmp_path / "part.bin"
    damaged.write_bytes(installed_part(bad).read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelNotReady, match=f"{bad.distribution}: {bad.file} is corrupt"):
        assemble_parts(
            model.parts, model.sha256, tmp_path / "m.gguf", lambda p: damaged if p == bad else installed_part(p), False
        )
    assert not list(tmp_path.glob("m.gguf*"))
