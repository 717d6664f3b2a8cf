"""The window around the server's clock a client-sent timestamp must fall in: one for both paths.

Rules score a transaction against the user's history up to its timestamp, so a timestamp the
client may choose freely is a way around them: one in a quiet past (or in 1970) has no history,
and the velocity and amount-spike rules never fire. Five minutes either way covers clock drift
and retries; it also keeps every stored transaction inside a window the pattern analyzer still
reads (each 5-minute run reads the last 10 minutes, so anything written at most 5 minutes late
is seen). A transaction sent without a timestamp is stamped with the server's time.

The window is checked after the replay look-up, not before: a retry of a stored transaction is
answered with the stored decision however late it comes (fraud_scoring.replays).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from fraud_scoring.transaction import Transaction
from fraud_scoring.validation import ValidationError

MINUTE_MS = 60_000


@dataclass(frozen=True)
class TimestampWindow:
    ahead_ms: int = 5 * MINUTE_MS
    behind_ms: int = 5 * MINUTE_MS

    def stamp(self, txn: Transaction, now_ms: int) -> Transaction:
        """The transaction with its timestamp: the server's time if it had none.

        Raises ValidationError naming `timestamp` when the client's is outside the window.
        """
        if txn.timestamp is None:
            return dataclasses.replace(txn, timestamp=now_ms)
        if not now_ms - self.behind_ms <= txn.timestamp <= now_ms + self.ahead_ms:
            raise ValidationError(
                [
                    f"timestamp: must be within {self.behind_ms // MINUTE_MS} minutes before and"
                    f" {self.ahead_ms // MINUTE_MS} minutes after the server's time ({_iso(now_ms)}),"
                    f" got {_iso(txn.timestamp)}; send the current time or leave timestamp out"
                ]
            )
        return txn


TIMESTAMP_WINDOW = TimestampWindow()


def _iso(timestamp_ms: int) -> str:
    try:
        moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        # Parsed timestamps lie within years 1970-9999; a caller that skipped parsing may not.
        return f"{timestamp_ms} ms"
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
