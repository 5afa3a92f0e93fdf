"""Model registry (``provider:model_id`` -> strands Model), offline demo model, fault injection, error mapping.

The names below are imported from their modules on first use (PEP 562), so importing a
submodule such as :mod:`assistant.models.registry` (the chat page does) imports no strands.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.models.errors import ErrorCategory, error_category
    from assistant.models.faults import FAULT_MODES, FaultInjectingModel, FaultSpec, FaultSpecError, parse_fault_spec
    from assistant.models.offline import OfflineModel
    from assistant.models.registry import (
        PROVIDERS,
        ModelInfo,
        ModelNameError,
        ModelNotAllowedError,
        UnknownModelError,
        describe_model,
        get_model,
        known_providers,
        parse_model_name,
        register_provider,
    )

_MODULES = {
    "assistant.models.errors": ("ErrorCategory", "error_category"),
    "assistant.models.faults": (
        "FAULT_MODES",
        "FaultInjectingModel",
        "FaultSpec",
        "FaultSpecError",
        "parse_fault_spec",
    ),
    "assistant.models.offline": ("OfflineModel",),
    "assistant.models.registry": (
        "PROVIDERS",
        "ModelInfo",
        "ModelNameError",
        "ModelNotAllowedError",
        "UnknownModelError",
        "describe_model",
        "get_model",
        "known_providers",
        "parse_model_name",
        "register_provider",
    ),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "FAULT_MODES",
    "PROVIDERS",
    "ErrorCategory",
    "FaultInjectingModel",
    "FaultSpec",
    "FaultSpecError",
    "ModelInfo",
    "ModelNameError",
    "ModelNotAllowedError",
    "OfflineModel",
    "UnknownModelError",
    "describe_model",
    "error_category",
    "get_model",
    "known_providers",
    "parse_fault_spec",
    "parse_model_name",
    "register_provider",
]
