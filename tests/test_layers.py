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
