"""Object storage through fsspec: S3 (s3://), Google Cloud Storage (gs://), Azure Blob (az://).

Change detection uses each object's ETag (no object is downloaded to see whether it changed);
access groups come from an object tag or a user-metadata key, when configured.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rag_pipelines.config.base import StrictModel
from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.connectors.base import Listing, Scalar, SourceItem
from rag_pipelines.ingest.globs import matches
from rag_pipelines.ingest.limits import TooLarge
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.object_keys import s3_metadata, s3_read, s3_tags

PROTOCOLS = ("s3", "gs", "gcs", "az", "abfs")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class AccessGroupsFrom(StrictModel):
    """Where an object's reader groups are written: a tag or a user-metadata key."""

    source: Literal["tags", "metadata"] = Field(
        "metadata", description="Read groups from object tags (S3) or user metadata."
    )
    key: str = Field(
        "access-groups", min_length=1, description="The tag or metadata key holding the groups."
    )
    separator: str = Field(",", min_length=1, description="Separator between groups in the value.")


class ObjectStorageConnector(ConnectorSettings):
    """Objects under a bucket prefix, selected by glob patterns relative to the prefix."""

    type: Literal["object_storage"] = Field(
        description="object_storage: objects under a bucket prefix (fsspec)."
    )
    url: str = Field(description="s3://bucket/prefix, gs://bucket/prefix or az://container/prefix")
    include: list[str] = Field(
        default_factory=lambda: ["**/*"], min_length=1, description="Globs relative to the prefix."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Globs relative to the prefix left out."
    )
    max_file_mb: float = Field(50.0, gt=0, description="Larger objects are quarantined, not read.")
    fallback_encoding: str = Field(
        "cp1252", description="Codec of text objects that are not UTF-8."
    )
    endpoint_url: str | None = Field(None, description="An S3-compatible endpoint (MinIO, ...).")
    region: str | None = Field(None, description="The bucket's region (S3).")
    credentials_env: dict[str, str] = Field(
        default_factory=dict,
        description="fsspec storage option → name of the environment variable holding it "
        "(e.g. key: AWS_ACCESS_KEY_ID); secrets never sit in sources.yaml.",
    )
    options: dict[str, Scalar] = Field(
        default_factory=dict, description="Other fsspec storage options (not secrets)."
    )
    access_groups: AccessGroupsFrom | None = None
    timeout_s: float = Field(30.0, gt=0, description="Connect and read timeout (S3).")
    retries: int = Field(3, ge=1, le=10, description="Attempts per request (S3).")

    @field_validator("url")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        protocol, sep, rest = value.partition("://")
        if not sep or protocol not in PROTOCOLS or not rest.strip("/"):
            raise ValueError(
                f"{value!r} is not an object storage URL: use s3://bucket/prefix, "
                "gs://bucket/prefix or az://container/prefix"
            )
        try:
            import fsspec

            fsspec.get_filesystem_class(protocol)
        except ImportError as exc:
            raise ValueError(
                f"{protocol}:// needs a package that is not installed: {exc}"
            ) from None
        return value.rstrip("/")

    @field_validator("credentials_env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for option, name in value.items():
            if not re.match(_ENV_NAME, name):
                raise ValueError(f"credentials_env[{option!r}]: {name!r} is not a variable name")
        return value

    @model_validator(mode="after")
    def _tags_on_s3(self) -> ObjectStorageConnector:
        if self.access_groups and self.access_groups.source == "tags" and self.protocol != "s3":
            raise ValueError("access_groups.source 'tags' needs s3:// (use 'metadata' elsewhere)")
        return self

    @property
    def protocol(self) -> str:
        """s3, gs, gcs, az or abfs."""
        return self.url.partition("://")[0]

    @property
    def root(self) -> str:
        """bucket/prefix, as fsspec names paths."""
        return self.url.partition("://")[2]

    def filesystem(self) -> Any:
        """A fresh fsspec filesystem (no listing cache: every listing asks the server)."""
        import fsspec

        options: dict[str, Any] = dict(self.options)
        for option, name in self.credentials_env.items():
            if name not in os.environ:
                raise OSError(f"credentials_env[{option!r}]: ${name} is not set")
            options[option] = os.environ[name]
        if self.protocol == "s3":
            client: dict[str, Any] = {}
            if self.endpoint_url:
                client["endpoint_url"] = self.endpoint_url
            if self.region:
                client["region_name"] = self.region
            options.setdefault("client_kwargs", client)
            options.setdefault("use_listings_cache", False)
            options.setdefault(
                "config_kwargs",
                {
                    "connect_timeout": self.timeout_s,
                    "read_timeout": self.timeout_s,
                    "retries": {"max_attempts": self.retries, "mode": "standard"},
                },
            )
        fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, **options)
        if self.protocol == "s3":
            fs.retries = self.retries  # s3fs retries again around botocore's own attempts
        return fs

    def _objects(self, fs: Any) -> list[tuple[str, dict[str, Any]]]:
        """(id relative to the prefix, info) of every selected object, sorted by id.

        The id is the key after the prefix and its one separator, exactly: `docs//abs.md`
        is `/abs.md`, another object than `docs/abs.md` (stripping every slash made both
        `abs.md`, a duplicate that blocked publishing). Zero-byte keys ending in `/` are the
        folder markers consoles and tools write: no documents, so not listed at all.
        """
        found = fs.find(self.root, detail=True)
        prefix = f"{self.root}/"
        selected: list[tuple[str, dict[str, Any]]] = []
        for path, info in sorted(found.items()):
            rel = path.removeprefix(prefix) if path.startswith(prefix) else ""
            if rel.endswith("/") and not info.get("size"):
                continue
            if (
                rel
                and info.get("type", "file") == "file"
                and matches(rel, self.include, self.exclude)
            ):
                selected.append((rel, info))
        return selected

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every selected object with its ETag; unreadable prefixes delete nothing."""
        try:
            fs = self.filesystem()
            objects = self._objects(fs)
        except Exception as exc:  # botocore/gcsfs/adlfs raise their own types, not only OSError
            return Listing([], [self._failure(source, "", f"cannot list: {exc}", exc)], [""])
        limit = self._limit_bytes()
        items: list[SourceItem] = []
        failures: list[IngestFailure] = []
        for rel, info in objects:
            size = int(info.get("size") or 0)
            if size > limit:
                reason = f"object is {size} bytes, over max_file_mb={self.max_file_mb}"
                failures.append(self._failure(source, rel, reason, "TooLarge"))
                continue
            if size == 0:
                failures.append(self._failure(source, rel, "the object is empty", "EmptyFile"))
                continue
            try:
                groups = self._groups(fs, rel)
            except Exception as exc:  # as above: the storage client's own error types
                failures.append(self._failure(source, rel, f"cannot read its groups: {exc}", exc))
                continue
            etag = str(_first(info, "ETag", "etag", "md5Hash") or "").strip('"')
            modified = _first(info, "LastModified", "last_modified", "updated", "mtime")
            items.append(
                SourceItem(
                    id=rel,
                    uri=f"{self.protocol}://{self.root}/{rel}",
                    content_hash=sha256_text("etag", etag)
                    if etag
                    else sha256_text("size-time", str(size), str(modified)),
                    modified_at=_iso(modified),
                    size_bytes=size,
                    metadata={"etag": etag} if etag else {},
                    access_groups=groups,
                    fallback_encoding=self.fallback_encoding,
                )
            )
        return Listing(items=items, failures=failures)

    def _groups(self, fs: Any, rel: str) -> tuple[str, ...] | None:
        spec = self.access_groups
        if spec is None:
            return None
        if self.protocol == "s3":
            bucket, key = self._bucket_key(rel)
            tags = spec.source == "tags"
            values = s3_tags(fs, bucket, key) if tags else s3_metadata(fs, bucket, key)
        else:
            values = fs.metadata(f"{self.root}/{rel}")
        raw = {str(k).lower(): str(v) for k, v in (values or {}).items()}.get(spec.key.lower())
        if raw is None:
            return None
        return tuple(sorted({g.strip() for g in raw.split(spec.separator) if g.strip()}))

    def _failure(self, source: str, rel: str, reason: str, kind: Exception | str) -> IngestFailure:
        return IngestFailure(
            source=source,
            document_id=rel or "./",
            uri=f"{self.protocol}://{self.root}/{rel}",
            reason=reason,
            error_type=kind if isinstance(kind, str) else type(kind).__name__,
        )

    def signature(self) -> str:
        """sha256 over (id, ETag, size) of every selected object: one listing, no download."""
        digest = hashlib.sha256()
        for rel, info in self._objects(self.filesystem()):
            etag = _first(info, "ETag", "etag", "md5Hash")
            digest.update(f"{rel}\0{etag}\0{info.get('size')}\n".encode())
        if self.access_groups is not None:
            digest.update(b"groups\0" + self.access_groups.model_dump_json().encode())
        return digest.hexdigest()

    def open(self, item: SourceItem) -> bytes:
        """The object's bytes, read by its key (never parsed as a path: see `s3_read`).

        The size limit applies to what is read, not to what was listed: an object replaced
        since the listing by a larger one is refused as TooLarge, with no more than the limit
        read.
        """
        fs = self.filesystem()
        limit = self._limit_bytes()
        if self.protocol == "s3":
            data = s3_read(fs, *self._bucket_key(item.id), limit)
        else:
            data = bytes(fs.cat_file(f"{self.root}/{item.id}", start=0, end=limit + 1))
        if len(data) > limit:
            raise TooLarge(
                f"the object holds more than max_file_mb={self.max_file_mb} when read (listed "
                f"at {item.size_bytes} bytes, it was replaced since); the next run refuses or "
                "reads it as it is then"
            )
        return data

    def _limit_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    def _bucket_key(self, rel: str) -> tuple[str, str]:
        """The bucket and the full key of the object with id `rel`."""
        bucket, _, prefix = self.root.partition("/")
        return bucket, f"{prefix}/{rel}" if prefix else rel

    def available(self) -> bool:
        """True if the bucket (or container) answers."""
        try:
            return bool(self.filesystem().exists(self.root.split("/", 1)[0]))
        except Exception:  # an unreachable endpoint raises the client's own error types
            return False


def _first(info: Mapping[str, Any], *keys: str) -> Any:
    """The first of several spellings of a field (s3fs, gcsfs and adlfs differ)."""
    return next((info[k] for k in keys if info.get(k) is not None), None)


def _iso(value: Any) -> str | None:
    """An ISO-8601 string for a datetime, a POSIX time or a string."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    if isinstance(value, int | float):
        from rag_pipelines.ingest.connectors.base import iso_time

        return iso_time(float(value))
    return str(value)
