"""S3 objects addressed by bucket and key through s3fs's own client, never by path.

s3fs parses a path: `docs/what.md?versionId=1.md` becomes key `docs/what.md` with a version
id, so reading an object by its path can return another object's bytes, tags or metadata.
These calls hand the key to S3 as it was listed.
"""

from __future__ import annotations

from typing import Any


def s3_read(fs: Any, bucket: str, key: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the object `key` (one more than allowed says it is over)."""
    from fsspec.asyn import sync

    return bytes(sync(fs.loop, _get, fs, bucket, key, limit))


async def _get(fs: Any, bucket: str, key: str, limit: int) -> bytes:
    # The range bounds what the server sends; read(limit + 1) bounds memory if it ignores it.
    response = await fs._call_s3("get_object", Bucket=bucket, Key=key, Range=f"bytes=0-{limit}")
    body = response["Body"]
    parts: list[bytes] = []
    got = 0
    try:
        while got <= limit:  # read(n) returns what one network read gave, up to n
            part = await body.read(limit + 1 - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
    finally:
        body.close()
    return b"".join(parts)


def s3_tags(fs: Any, bucket: str, key: str) -> dict[str, str]:
    """The object's tags."""
    response = fs.call_s3("get_object_tagging", Bucket=bucket, Key=key)
    return {str(t["Key"]): str(t["Value"]) for t in response.get("TagSet", [])}


def s3_metadata(fs: Any, bucket: str, key: str) -> dict[str, str]:
    """The object's user metadata (as s3fs's `metadata` spells it: `_` read as `-`)."""
    response = fs.call_s3("head_object", Bucket=bucket, Key=key)
    return {str(k).replace("_", "-"): str(v) for k, v in response.get("Metadata", {}).items()}
