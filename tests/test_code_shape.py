"""The style rules that fit in a tool: no module over 300 lines, no constructor over 5 parameters."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("edge", "cloud", "shared", "benchmarks", "tests")
MAX_LINES, MAX_INIT_PARAMS = 300, 5


def sources() -> list[Path]:
    """Every hand-written module (the generated gRPC stubs excepted)."""
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.name.endswith(("_pb2.py", "_pb2_grpc.py", "_pb2.pyi"))
    ]


def init_params(tree: ast.Module) -> list[tuple[str, int]]:
    """(class, parameter count without self) for every hand-written __init__."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    found.append((node.name, len(args.posonlyargs) + len(args.args) - 1 + len(args.kwonlyargs)))
    return found


def test_the_scan_sees_the_code():
    assert len(sources()) > 100 and ROOT / "edge" / "agent.py" in sources()


def test_no_module_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules: {long}"


def test_no_constructor_over_5_parameters():
    wide = [
        f"{path.relative_to(ROOT)}:{cls} ({count})"
        for path in sources()
        for cls, count in init_params(ast.parse(path.read_text()))
        if count > MAX_INIT_PARAMS
    ]
    assert not wide, f"take a config object or keyword-only settings: {wide}"


def test_the_rules_catch_what_they_forbid():
    wide = ast.parse("class A:\n    def __init__(self, a, b, c, d, e, *, f):\n        pass\n")
    assert init_params(wide) == [("A", 6)]
