"""Model registry (``provider:model_id`` -> strands Model), offline demo model, fault injection, error mapping."""

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
