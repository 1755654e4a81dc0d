"""The import-linter contract names every module of shared/ in exactly one layer.

A module the contract does not name is unconstrained by it, so a new kernel module could import the
domain unnoticed; this test makes adding a module to shared/ also mean placing it in a layer.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import shared

ROOT = Path(__file__).resolve().parents[1]


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def _named_modules() -> list[str]:
    names: list[str] = []
    for layer in _layers():
        names += [part.strip() for part in layer.replace("|", ":").split(":")]
    return names


def test_every_module_of_shared_is_in_exactly_one_layer() -> None:
    named = _named_modules()
    modules = sorted(f"shared.{m.name}" for m in pkgutil.iter_modules(shared.__path__))
    assert modules, "shared/ has no modules?"
    missing = [m for m in modules if m not in named]
    twice = sorted({m for m in named if named.count(m) > 1})
    assert missing == [], f"place these in a layer of pyproject.toml: {missing}"
    assert twice == []


def test_every_named_module_exists() -> None:
    # A stale name (a module renamed or removed) would silently constrain nothing.
    for name in _named_modules():
        path = ROOT / Path(*name.split("."))
        assert path.is_dir() or path.with_suffix(".py").is_file(), name


def test_the_sides_and_tenants_are_layers_of_their_own() -> None:
    layers = _layers()
    assert "vendor_console | customer_portal" in layers  # `|`: the sides never import each other
    assert layers.index("tenants") > layers.index("vendor_console | customer_portal")
    assert layers[-1] == "config"


DOMAIN = [
    "tenants",
    "shared/customers",
    "shared/invoices",
    "shared/portal_accounts",
    "shared/support",
    "shared/faq",
    "shared/accounts",
    "shared/pay_links.py",
]
REQUEST_STATE = {"request", "g", "session"}


def _request_state_reads(path: Path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            found += [
                f"{path}:{node.lineno} flask.{a.name}"
                for a in node.names
                if a.name in REQUEST_STATE
            ]
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_login"):
            found += [
                f"{path}:{node.lineno} {node.module}.{a.name}"
                for a in node.names
                if a.name == "current_user"
            ]
    return found


def test_domain_operations_take_their_context_as_arguments():
    """Issue 7, point 4: tenants and the shared domain never read `request`, `g`, `session` or
    `current_user`; the views pass the tenant, the actor and the clock."""
    root = Path(__file__).resolve().parent.parent
    files = []
    for entry in DOMAIN:
        target = root / entry
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert files
    assert [hit for path in files for hit in _request_state_reads(path)] == []


def test_the_context_rule_sees_a_read_of_request_state(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from flask import current_app, g\nfrom flask_login import current_user\n")
    assert len(_request_state_reads(sample)) == 2
