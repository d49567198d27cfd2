"""An import-linter contract for names rather than modules.

import-linter's own contracts forbid whole modules; a service may use
``flask.current_app`` but not ``flask.request``, ``url_for`` or ``session``,
which live in the same module. This contract reads the source of each module
it is given and refuses imports (``from flask import request``) and attribute
uses (``flask.request``) of the forbidden names.

Configured in pyproject.toml as ``type = "forbidden_names"``.
"""

from __future__ import annotations

import ast
import importlib.util

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.helpers import module_expressions_to_modules


class ForbiddenNamesContract(Contract):
    """``source_modules`` (wildcards allowed) never import any of ``forbidden_names`` (``flask.request``)."""

    source_modules = fields.ListField(subfield=fields.ModuleExpressionField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden = {tuple(name.rsplit(".", 1)) for name in self.forbidden_names}  # type: ignore[attr-defined]
        modules = sorted(m.name for m in module_expressions_to_modules(graph, self.source_modules))  # type: ignore[attr-defined]
        found: list[tuple[str, int, str]] = []
        for module in modules:
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                continue
            with open(spec.origin, encoding="utf-8") as source:
                tree = ast.parse(source.read(), spec.origin)
            found.extend((module, line, name) for line, name in _uses(tree, forbidden))
        return ContractCheck(kept=not found, metadata={"found": found, "checked": len(modules)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, line, name in check.metadata["found"]:
            output.print_error(f"{module}:{line} uses {name}")
            output.new_line()


def _uses(tree: ast.AST, forbidden: set[tuple[str, ...]]) -> list[tuple[int, str]]:
    found = []
    aliases: dict[str, str] = {}  # local name -> module, for `import flask` / `import flask as f`
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (node.module, alias.name) in forbidden:
                    found.append((node.lineno, f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id)
            if module and (module, node.attr) in forbidden:
                found.append((node.lineno, f"{module}.{node.attr}"))
    return found


class AcyclicPackagesContract(Contract):
    """No cycle of direct imports between the given packages (the domains), whatever goes through others."""

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        packages = list(self.packages)  # type: ignore[attr-defined]
        edges = {a: {b for b in packages if b != a and graph.direct_import_exists(
            importer=a, imported=b, as_packages=True)} for a in packages}
        cycles = _cycles(edges)
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles, "edges": edges})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(" -> ".join(cycle + [cycle[0]]))
            output.new_line()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of packages (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups
