"""Lists the test functions whose every assertion is about an HTTP status code.

    python -m tests.support.status_only [paths...]      (default: tests/)

    python -m tests.support.status_only --shape [paths...]

A test counts when it has at least one `assert` and each of them, split on `and`, compares
only a response's `status_code` (or `status`) with constants or names: `assert r.status_code ==
201`, `assert client.get(...).status_code in (403, 404)`. With --shape, checks of the kind of
answer count as well: its `mimetype` / `content_type` and a problem's `title`. A test asserting
anything else (a body field, a header, a row, a stock figure, `pytest.raises`) or calling no
`assert` at all (it may use a helper that asserts) does not count. It reads the source only;
nothing is imported.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

STATUS_ATTRIBUTES = {"status_code", "status"}
SHAPE_ATTRIBUTES = {"mimetype", "content_type"}


def _mentions_status(node: ast.AST, shape: bool = False) -> bool:
    attributes = STATUS_ATTRIBUTES | (SHAPE_ATTRIBUTES if shape else set())
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr in attributes:
            return True
        if shape and isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value == "title":
            return True
    return False


def _is_plain_value(node: ast.AST) -> bool:
    """A constant, a name, or a tuple/list/set of them (what a status is compared with)."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):  # HTTPStatus.CREATED
        return not _mentions_status(node)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_plain_value(e) for e in node.elts)
    return False


def _status_only_condition(node: ast.AST, shape: bool = False) -> bool:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return all(_status_only_condition(value, shape) for value in node.values)
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        status = [s for s in sides if _mentions_status(s, shape)]
        return len(status) >= 1 and all(_is_plain_value(s) for s in sides if s not in status)
    return False


def _asserts_of(function: ast.FunctionDef) -> tuple[list[ast.Assert], bool]:
    """The asserts of the test's own body (nested functions included) and whether it uses
    `pytest.raises` / `pytest.fail` (an assertion of another kind)."""
    asserts, other = [], False
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            asserts.append(node)
        elif isinstance(node, ast.Attribute) and node.attr in {"raises", "fail"}:
            other = True
    return asserts, other


def status_only_tests(paths: list[Path], shape: bool = False) -> list[str]:
    found = []
    for path in sorted(p for root in paths for p in ([root] if root.is_file() else root.rglob("test_*.py"))):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                asserts, other = _asserts_of(node)
                if asserts and not other and all(_status_only_condition(a.test, shape) for a in asserts):
                    found.append(f"{path}:{node.lineno}::{node.name}")
    return found


def main(argv: list[str]) -> int:
    shape = "--shape" in argv
    paths = [Path(arg) for arg in argv if arg != "--shape"] or [Path("tests")]
    tests = status_only_tests(paths, shape)
    print("\n".join(tests))
    print(f"{len(tests)} status-only tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
