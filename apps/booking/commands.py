"""Commands: requests to change the booking system, named in the imperative."""

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class CreateBooking:
    customer_id: str
    room_type_id: str
    hotel_id: str
    check_in: date
    nights: int
    units: int
    card_token: str

    def fingerprint(self) -> str:
        """Same request body, same fingerprint: spots an idempotency key reused for another body."""
        fields = asdict(self)
        fields["check_in"] = self.check_in.isoformat()
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()
