"""Object storage as users keep their data: ``s3://`` (and ``s3a://``), ``gs://``, ``az://`` /
``abfs[s]://``, read with the user's own credentials from each cloud's standard environment.

- **S3**: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``), or a profile
  (``AWS_PROFILE``, ``AWS_SHARED_CREDENTIALS_FILE``, ``~/.aws/credentials``; polars reads profiles
  through boto3), the region from ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, and an S3-compatible
  endpoint from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` (MinIO, moto, Ceph).
- **Google Cloud Storage**: ``GOOGLE_APPLICATION_CREDENTIALS`` (a service account file) or the
  application default credentials of ``gcloud auth application-default login``.
- **Azure**: ``AZURE_STORAGE_ACCOUNT_NAME`` with ``AZURE_STORAGE_ACCOUNT_KEY``, a SAS token
  (``AZURE_STORAGE_SAS_TOKEN``) or a service principal (``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``,
  ``AZURE_TENANT_ID``).

polars reads the data (object_store reads the same variables); pyarrow's filesystems list folders
and look for a table's metadata; pyiceberg and deltalake get the same settings mapped to their own
keys. Nothing here prints a secret: errors say which *kind* of credentials were tried, the key id's
last four characters at most, and name the bucket and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlobs_notebook.errors import SourceUnreadable

__all__ = [
    "OBJECT_SCHEMES",
    "RemoteLocation",
    "credentials_tried",
    "delta_storage_options",
    "iceberg_io_properties",
    "list_files",
    "is_remote",
    "object_error",
]

OBJECT_SCHEMES = ("s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "adl", "azure")
_S3 = ("s3", "s3a", "s3n")
_GCS = ("gs", "gcs")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class RemoteLocation:
    """``scheme://bucket/key`` split; ``bucket`` is the S3/GCS bucket or the Azure container."""

    scheme: str
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> RemoteLocation:
        parsed = urlparse(uri)
        bucket = parsed.netloc.split("@", 1)[0]  # abfss://container@account.dfs.core.windows.net
        return cls(parsed.scheme.lower(), bucket, parsed.path.lstrip("/"))

    @property
    def cloud(self) -> str:
        return "s3" if self.scheme in _S3 else "gcs" if self.scheme in _GCS else "azure"

    def uri(self, key: str | None = None) -> str:
        scheme = "s3" if self.scheme in _S3 else self.scheme
        return f"{scheme}://{self.bucket}/{self.key if key is None else key}"


def is_remote(location: str) -> bool:
    """Whether a location is on object storage (``s3://``, ``gs://``, ``az://`` ...)."""
    return "://" in location and location.split("://", 1)[0].lower() in OBJECT_SCHEMES


def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def credentials_tried(cloud: str) -> str:
    """Which credentials the readers find for ``cloud`` (s3, gcs, azure), without any secret."""
    env = os.environ
    found: list[str] = []
    if cloud == "s3":
        key = env.get("AWS_ACCESS_KEY_ID")
        if key:
            found.append(f"AWS_ACCESS_KEY_ID (…{key[-4:]}) and AWS_SECRET_ACCESS_KEY from the environment"
                         + (" with AWS_SESSION_TOKEN" if env.get("AWS_SESSION_TOKEN") else ""))
        profile = env.get("AWS_PROFILE")
        files = env.get("AWS_SHARED_CREDENTIALS_FILE") or str(Path("~/.aws/credentials").expanduser())
        if profile:
            found.append(f"profile {profile!r} (AWS_PROFILE) from {files}")
        elif not key and Path(files).exists():
            found.append(f"the default profile of {files}")
        where = f"; endpoint {_endpoint()}" if _endpoint() else ""
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        where += f"; region {region}" if region else ""
        if not found:
            return ("no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE) or "
                    f"{files}, so only the machine's instance role could be tried{where}")
        return "; ".join(found) + where
    if cloud == "gcs":
        adc = Path("~/.config/gcloud/application_default_credentials.json").expanduser()
        for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH"):
            if env.get(name):
                found.append(f"{name}={env[name]}")
        if not found and adc.exists():
            found.append(f"application default credentials in {adc}")
        return "; ".join(found) or ("no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set and "
                                    f"{adc} does not exist")
    account = env.get("AZURE_STORAGE_ACCOUNT_NAME")
    kinds = [name for name in ("AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET")
             if env.get(name)]
    if not account:
        return "no Azure storage account: AZURE_STORAGE_ACCOUNT_NAME is not set"
    return f"account {account} (AZURE_STORAGE_ACCOUNT_NAME) with {', '.join(kinds) or 'no key, SAS token or client secret'}"


def object_error(uri: str, exc: BaseException, doing: str = "read") -> SourceUnreadable:
    """A :class:`SourceUnreadable` naming the bucket and key, what went wrong (missing bucket or
    key, denied, unreachable) and which credentials were tried."""
    loc = RemoteLocation.parse(uri)
    text = _ANSI.sub("", str(exc))
    reason = _reason(loc, text, exc)
    return SourceUnreadable(
        f"cannot {doing} {uri}: {reason} (bucket {loc.bucket!r}, key {loc.key or '/'!r}). "
        f"Credentials tried: {credentials_tried(loc.cloud)}."
    )


def _reason(loc: RemoteLocation, text: str, exc: BaseException) -> str:
    if "NoSuchBucket" in text or "specified bucket does not exist" in text:
        return f"the bucket {loc.bucket!r} does not exist"
    if any(word in text for word in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "ACCESS_DENIED",
                                     "AccessDenied", "403 Forbidden", "lacked the necessary privileges")):
        return "access was denied: the credentials are wrong or may not read this bucket"
    if any(word in text for word in ("dns error", "resolve host", "Could not resolve", "Connection refused",
                                     "NETWORK_CONNECTION", "error sending request")):
        return "the storage service could not be reached (check the endpoint and the network)"
    if isinstance(exc, FileNotFoundError) or "NoSuchKey" in text or "not found" in text.lower():
        missing = _missing_bucket(loc)
        return f"the bucket {loc.bucket!r} does not exist" if missing else "no such object or folder"
    first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
    return f"{type(exc).__name__}: {first}"


def _missing_bucket(loc: RemoteLocation) -> bool:
    """Whether the bucket itself is missing (the readers' "not found" does not say which)."""
    try:
        import pyarrow.fs as pafs

        fs, _ = _filesystem(loc)
        return bool(fs.get_file_info(loc.bucket).type == pafs.FileType.NotFound)
    except Exception:  # noqa: BLE001 - a probe for a better message, never a new failure
        return False


def _filesystem(loc: RemoteLocation) -> tuple[Any, str]:
    """A pyarrow filesystem for the location and the path inside it (``bucket/key``)."""
    import pyarrow.fs as pafs

    path = f"{loc.bucket}/{loc.key}".rstrip("/")
    if loc.cloud == "s3":
        # pyarrow's S3FileSystem() ignores AWS_ENDPOINT_URL (apache/arrow#49643); from_uri reads
        # it, the credentials (environment, profiles) and the region like the AWS SDKs do
        fs, _ = pafs.FileSystem.from_uri(f"s3://{loc.bucket}")
        return fs, path
    if loc.cloud == "gcs":
        return pafs.GcsFileSystem(), path
    env = os.environ
    account = env.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not account:
        raise SourceUnreadable(
            f"cannot read {loc.uri()}: set AZURE_STORAGE_ACCOUNT_NAME (and AZURE_STORAGE_ACCOUNT_KEY, "
            "AZURE_STORAGE_SAS_TOKEN or a service principal) to read Azure storage"
        )
    return pafs.AzureFileSystem(account_name=account, account_key=env.get("AZURE_STORAGE_ACCOUNT_KEY")), path


def list_files(uri: str) -> list[str]:
    """Every object under a folder URI, as full URIs, sorted; raises :class:`SourceUnreadable`
    naming the bucket and key (and the credentials tried) when the folder cannot be listed."""
    import pyarrow.fs as pafs

    loc = RemoteLocation.parse(uri.rstrip("/") + "/")
    try:
        fs, path = _filesystem(loc)
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    except SourceUnreadable:
        raise
    except Exception as exc:
        raise object_error(uri, exc, "list") from exc
    prefix = f"{'s3' if loc.cloud == 's3' else loc.scheme}://"
    return sorted(prefix + info.path for info in infos if info.type == pafs.FileType.File)


def iceberg_io_properties(uri: str) -> dict[str, str]:
    """pyiceberg's FileIO settings for the location, from the cloud's environment (pyiceberg reads
    neither ``AWS_ENDPOINT_URL`` nor the Azure variables itself)."""
    env = os.environ
    loc = RemoteLocation.parse(uri)
    props: dict[str, str] = {}
    if loc.cloud == "s3":
        for key, name in (("s3.endpoint", None), ("s3.access-key-id", "AWS_ACCESS_KEY_ID"),
                          ("s3.secret-access-key", "AWS_SECRET_ACCESS_KEY"),
                          ("s3.session-token", "AWS_SESSION_TOKEN")):
            value = _endpoint() if name is None else env.get(name)
            if value:
                props[key] = value
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            props["s3.region"] = region
    elif loc.cloud == "gcs":
        if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
            props["gcs.service-account-path"] = env["GOOGLE_APPLICATION_CREDENTIALS"]
    else:
        for key, name in (("adls.account-name", "AZURE_STORAGE_ACCOUNT_NAME"),
                          ("adls.account-key", "AZURE_STORAGE_ACCOUNT_KEY"),
                          ("adls.sas-token", "AZURE_STORAGE_SAS_TOKEN")):
            if env.get(name):
                props[key] = env[name]
    return props


def delta_storage_options(uri: str) -> dict[str, str] | None:
    """deltalake's options beyond what it reads from the environment: an ``http://`` S3 endpoint
    must be allowed explicitly (``AWS_ALLOW_HTTP``)."""
    scheme = urlparse(uri).scheme.lower()
    endpoint = _endpoint()
    if scheme in _S3 and endpoint and endpoint.startswith("http://"):
        return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"}
    return None
