"""Where evidence photos' bytes are kept: one small interface, a directory or an S3-compatible bucket.

Keys are built by `router.photos` from order and photo ids (`<order_id>/<photo_id>.jpg`); the
metadata row is written only after its files are stored, so a row never names a missing file
(a crash in between leaves an unreferenced file, which harms nobody).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]+/[A-Za-z0-9_-]+(\.[a-z]+)+$")


class PhotoFiles(Protocol):
    """Bytes by key: put once, read back; a key that was never put raises KeyError."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


def _checked(key: str) -> str:
    # Keys come from ids, never from a user's file name: anything else is a bug, not a path to follow.
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a photo key: {key!r}")
    return key


class DirectoryFiles:
    """The embedded default: files under a directory (`FENGQIAO_DATA_DIR/photos`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.root / _checked(key)
        # The owner's alone, whatever the umask: photos show people and places (mkstemp's files are 0600).
        # A key is <order>/<photo>: the root and the order's directory are all there is to create.
        for directory in (self.root, path.parent):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)  # mkdir's mode is masked by the umask
        # Written aside and renamed: a reader never sees half a photo, a crash leaves no torn file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return (self.root / _checked(key)).read_bytes()
        except FileNotFoundError as missing:
            raise KeyError(key) from missing


class BucketFiles:
    """Production: objects in an S3-compatible bucket, through a boto3 S3 client (or anything with its
    `put_object` and `get_object`), under `prefix`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + _checked(key), Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))
        except self.client.exceptions.NoSuchKey as missing:
            raise KeyError(key) from missing
        return answer["Body"].read()
