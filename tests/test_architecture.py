"""The shape of the code: layers that import only downwards, no import cycles, and transactions
that end in one place (core.unit_of_work).

Imports are read by grimp (the import-linter's graph), every import statement counted, those
inside functions too: a cycle cannot hide in a function body.
"""
from __future__ import annotations

import ast
import itertools
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "web", "api", "admin", "storefront", "jobs", "storefleet")
# What each package may not import, directly or through others: the domain knows no delivery
# package, the web seam none of the packages it serves, the delivery packages not one another.
DELIVERY = ("api", "admin", "storefront")
FORBIDDEN = {
    "core": ("web", *DELIVERY, "jobs", "storefleet"),
    "web": (*DELIVERY, "jobs", "storefleet"),
    "api": ("admin", "storefront", "jobs"),
    "admin": ("api", "storefront", "jobs"),
    "storefront": ("api", "admin", "jobs"),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _modules(graph, package: str) -> set[str]:
    return {package} | graph.find_descendants(package)


@pytest.mark.parametrize("importer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(graph, importer):
    chains = {imported: graph.find_shortest_chains(importer=importer, imported=imported, as_packages=True)
              for imported in FORBIDDEN[importer]}
    assert {imported: sorted(found) for imported, found in chains.items() if found} == {}


def test_jobs_reach_the_delivery_packages_only_through_the_app_factory(graph):
    """A job imports the domain; the worker gets its app (and so the blueprints) from
    storefleet.app, never from a delivery package directly."""
    direct = {imported for module in _modules(graph, "jobs")
              for imported in graph.find_modules_directly_imported_by(module)}
    assert {m for m in direct if m.split(".")[0] in ("web", *DELIVERY)} == set()


def test_there_is_no_import_cycle(graph):
    modules = set(itertools.chain.from_iterable(_modules(graph, package) for package in PACKAGES))
    cycles = set()
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.add(tuple(sorted({module, *back})))
    assert sorted(cycles) == []


def _source_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _functions_with_their_decorators(tree):
    """Every function with the decorator names of it and of the functions it is nested in."""
    def walk(node, marks):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = {ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in child.decorator_list}
                yield child, marks | names
                yield from walk(child, marks | names)
            else:
                yield from walk(child, marks)

    yield from walk(tree, frozenset())


def test_only_the_unit_of_work_and_marked_services_end_transactions():
    """Services flush; the unit of work commits or rolls back once. A function that must end a
    transaction itself says why with @commits(reason) (core.unit_of_work)."""
    found = []
    for path in _source_files():
        if path == ROOT / "core" / "unit_of_work.py":
            continue
        tree = ast.parse(path.read_text())
        for function, decorators in _functions_with_their_decorators(tree):
            if "commits" in decorators:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("commit", "rollback") and not node.args:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {function.name}")
    assert sorted(set(found)) == []


def test_project_modules_are_imported_at_the_top_of_a_module():
    """No function-level import of a project module: such imports are how cycles hide."""
    found = []
    for path in _source_files():
        tree = ast.parse(path.read_text())
        for function, _ in _functions_with_their_decorators(tree):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in PACKAGES):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in PACKAGES for a in node.names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert sorted(set(found)) == []
