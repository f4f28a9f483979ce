"""Which providers the server's processes run with: the environment's (default) or a factory an operator names.

`NEXA_SERVER_PROVIDERS=package.module:factory` makes every API process and worker call `factory()` for its
`Providers`, so a deployment can plug its own models or search (and the test suite its simulated providers)
without code in the server. Unset, `ResearchRuntime` builds `ConfiguredProviders` from the environment.
"""

from __future__ import annotations

import importlib
import os

from nexa_research.errors import ResearchInputError
from nexa_research.providers.provider_set import Providers

ENV = "NEXA_SERVER_PROVIDERS"


def providers_from_env() -> Providers | None:
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ResearchInputError(f"{ENV}: expected 'package.module:factory', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ResearchInputError(f"{ENV}: cannot load {spec!r}: {exc}") from exc
    return factory()
