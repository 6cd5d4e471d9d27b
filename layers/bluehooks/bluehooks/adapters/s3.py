"""The PayloadStore port over S3 (PayloadBucket): payloads kept zlib-compressed, expired by the bucket's lifecycle
rule after the delivery log's retention (bluehooks.rules.claimcheck)."""

import json
import zlib
from typing import Any

from botocore.exceptions import ClientError

from bluehooks.rules.claimcheck import PayloadGone


class S3PayloadStore:
    def __init__(self, s3, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def put(self, key: str, payload_json: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=zlib.compress(payload_json.encode()))

    def get(self, key: str) -> dict[str, Any]:
        """The payload; PayloadGone if it expired (a message older than the log's retention)."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise PayloadGone(f"its payload expired after the log's retention ({key})") from None
            raise
        return json.loads(zlib.decompress(body))
