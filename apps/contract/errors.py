"""The contract's errors: the ones only a request can cause, and the HTTP status of every code."""

from apps.booking.errors import DomainError


class NotFound(DomainError):
    code = "not_found"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


# A code not listed is a refused request (422), as the domain's own errors are.
STATUS_OF_CODE = {
    "validation_error": 422,
    "not_found": 404,
    "idempotency_conflict": 409,
    "not_cancellable": 409,
}
