"""Regenerates the Python stubs in this folder from proto/tandem/v1.

`python -m shared.rpc.codegen [OUT_ROOT]` writes shared/rpc/*_pb2*.py under
OUT_ROOT (default: the repository root). The tests run it into a temporary
folder and compare, so committed stubs can never go stale silently.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "proto" / "tandem" / "v1"
# The .proto files are mapped to the import path shared/rpc so generated code
# imports `shared.rpc.X_pb2` without any post-processing.
VIRTUAL_DIR = "shared/rpc"


def proto_files() -> list[Path]:
    return sorted(PROTO_DIR.glob("*.proto"))


def generate(out_root: Path) -> list[Path]:
    """Runs protoc; returns the generated files."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    (out_root / VIRTUAL_DIR).mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{VIRTUAL_DIR}={PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(f"{VIRTUAL_DIR}/{p.name}" for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    return sorted((out_root / VIRTUAL_DIR).glob("*_pb2*"))


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT
    for path in generate(root):
        print(path)
