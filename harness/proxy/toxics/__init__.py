"""Every toxic type, found by importing each module of this package.

A toxic is one module here defining a `Toxic` subclass with a `type_name`;
defining the class registers it (see facts.py), and importing the package
imports every module, so no list has to be edited to add one, as in
Toxiproxy, where each toxic registers itself from its own file.
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.proxy.toxics.base import Attribute, Chunk, Stub, Toxic, attribute
from harness.proxy.toxics.facts import REGISTRY, extension_toxics, toxic_types

# The public lookup by API name: the registry itself, so a toxic defined later is found too.
TOXIC_TYPES: dict[str, type[Toxic]] = REGISTRY


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_discover()

__all__ = ["TOXIC_TYPES", "Attribute", "Chunk", "Stub", "Toxic", "attribute", "extension_toxics", "toxic_types"]
