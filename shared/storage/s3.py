"""Files in an S3 bucket (or any S3-compatible server: `STORAGE_S3_ENDPOINT_URL`), through boto3.

Credentials come from boto3's usual chain (environment, instance role, ~/.aws); nothing here
reads or stores them.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.storage import FileMissing, StorageError, check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(
        self, bucket: str, prefix: str = "", *, endpoint_url: str | None, region: str
    ) -> None:
        self.bucket = bucket
        self.prefix = check_key(prefix) + "/" if prefix else ""
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 put {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileMissing(key) from None
            raise StorageError(f"S3 get {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 get {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise StorageError(f"S3 head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 head {key}: {exc}") from exc
        return True
