from __future__ import annotations

from typing import Any

from fraud_scoring.buckets import window_buckets
from pattern_analyzer.window import Window, WindowReader

WINDOW = Window(start_ms=1_714_564_230_000, end_ms=1_714_564_830_000)


class PagingDynamoDB:
    """Answers each bucket's Query in pages of two items, like DynamoDB past its 1 MB page limit."""

    def __init__(self, items_per_bucket: int) -> None:
        self.items_per_bucket = items_per_bucket
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        bucket = request["ExpressionAttributeValues"][":bucket"]["S"]
        start = int(request.get("ExclusiveStartKey", {}).get("n", {"N": "0"})["N"])
        page = list(range(start, min(start + 2, self.items_per_bucket)))
        response: dict[str, Any] = {
            "Items": [self._item(bucket, n) for n in page],
            "Count": len(page),
            "ScannedCount": len(page),
        }
        if page and page[-1] + 1 < self.items_per_bucket:
            response["LastEvaluatedKey"] = {"n": {"N": str(page[-1] + 1)}}
        return response

    def _item(self, bucket: str, n: int) -> dict[str, Any]:
        return {
            "transaction_id": {"S": f"{bucket}-{n}"},
            "timestamp": {"N": str(WINDOW.start_ms + n)},
            "user_id": {"S": "u"},
            "merchant_id": {"S": "m"},
            "amount": {"N": "1.5"},
            "decision": {"S": "approve"},
        }


def test_every_bucket_is_queried_for_the_window_and_followed_to_its_last_page() -> None:
    dynamodb = PagingDynamoDB(items_per_bucket=5)
    transactions, stats = WindowReader(dynamodb, "table", "index", shards=4).read(WINDOW)

    buckets = window_buckets(WINDOW.start_ms, WINDOW.end_ms, 4)
    assert len(transactions) == stats.count == stats.scanned_count == 5 * len(buckets)
    assert stats.queries == len(buckets) and stats.pages == 3 * len(buckets)
    assert len({t.transaction_id for t in transactions}) == len(transactions)
    for request in dynamodb.requests:
        assert request["IndexName"] == "index"
        assert request["KeyConditionExpression"] == "time_bucket = :bucket AND #ts BETWEEN :start AND :end"
        assert request["ExpressionAttributeValues"][":start"] == {"N": str(WINDOW.start_ms)}
        assert request["ExpressionAttributeValues"][":end"] == {"N": str(WINDOW.end_ms)}


def test_an_empty_window_reads_nothing() -> None:
    transactions, stats = WindowReader(PagingDynamoDB(items_per_bucket=0), "table", "index", shards=1).read(WINDOW)
    assert transactions == [] and stats.count == 0 and stats.pages == stats.queries == 11
