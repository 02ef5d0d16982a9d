"""The platform's offline FHIR validator (public surface)."""
from conformance.validator.api import Validator, validate
from conformance.validator.outcome import Issue, is_error, operation_outcome

__all__ = ["Issue", "Validator", "is_error", "operation_outcome", "validate"]
