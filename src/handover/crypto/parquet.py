"""Parquet Modular Encryption backed by handover's key backends.

pyarrow generates a random data key per column key and per footer, and asks a
``KmsClient`` to wrap it with a *master key* named by id; here the master key ids are
handover key ids and wrapping is :meth:`Keys.wrap` (keyring or HSM). So every encrypted
Parquet file can be read by stock pyarrow given :func:`decryption_properties`, and
destroying a key erases every column it protected.

Parquet encryption itself is AES-GCM only (the format defines AES_GCM_V1 and
AES_GCM_CTR_V1); with the ``sm`` suite the column data keys are still wrapped with
SM4-GCM, but the pages are AES-GCM (docs/crypto.md).
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe

from handover.crypto.errors import DecryptionFailed
from handover.crypto.keys import Keys
from handover.errors import BadInput, HandoverError

if TYPE_CHECKING:
    from handover.workspace import Workspace


# The AAD binds a wrapped Parquet data key to "Parquet use" so it cannot be replayed
# as, say, a tokenisation secret.
CONTEXT = b"parquet-dek"


class HandoverKmsClient(pe.KmsClient):  # type: ignore[misc]
    """A pyarrow ``KmsClient`` whose master keys are handover keys.

    Exceptions raised inside pyarrow's callbacks come back as generic ``OSError``s; the
    first one is kept in ``error`` so callers can re-raise the real, one-line error.
    """

    def __init__(self, keys: Keys) -> None:
        super().__init__()
        self.keys = keys
        self.error: HandoverError | None = None

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        """Wrap a Parquet data key under handover key ``master_key_identifier``."""
        try:
            blob = self.keys.wrap(master_key_identifier, bytes(key_bytes), CONTEXT)
        except HandoverError as exc:
            self.error = self.error or exc
            raise
        return base64.b64encode(blob).decode("ascii")

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        """Unwrap a Parquet data key; it must name ``master_key_identifier``."""
        try:
            blob = base64.b64decode(wrapped_key, validate=True)
            return self.keys.unwrap(blob, CONTEXT, key_id=master_key_identifier).material
        except HandoverError as exc:
            self.error = self.error or exc
            raise
        except ValueError:
            exc2 = DecryptionFailed.msg("crypto.decryption_failed", what="Parquet data key")
            self.error = self.error or exc2
            raise exc2 from None


def _factory(
    keys: Keys,
) -> tuple[pe.CryptoFactory, pe.KmsConnectionConfig, list[HandoverKmsClient]]:
    clients: list[HandoverKmsClient] = []

    def make(_config: pe.KmsConnectionConfig) -> HandoverKmsClient:
        client = HandoverKmsClient(keys)
        clients.append(client)
        return client

    config = pe.KmsConnectionConfig(
        kms_instance_id=str(keys.dir.resolve()), kms_instance_url="handover", key_access_token="-"
    )
    return pe.CryptoFactory(make), config, clients


def _encryption_config(
    column_keys: dict[str, list[str]], footer_key_id: str, data_key_bits: int
) -> pe.EncryptionConfiguration:
    return pe.EncryptionConfiguration(
        footer_key=footer_key_id,
        column_keys={k: list(v) for k, v in column_keys.items()},
        encryption_algorithm="AES_GCM_V1",
        plaintext_footer=False,
        # Single wrapping: every data key is wrapped by the backend itself, so destroying
        # a handover key leaves no locally cached KEK able to open it.
        double_wrapping=False,
        internal_key_material=True,
        cache_lifetime=dt.timedelta(seconds=1),
        data_key_length_bits=data_key_bits,
    )


def encryption_properties(
    keys: Keys,
    column_keys: dict[str, list[str]],
    footer_key_id: str,
    *,
    data_key_bits: int = 256,
) -> pe.FileEncryptionProperties:
    """File encryption properties: one data key per entry of ``column_keys``, encrypted footer.

    ``column_keys`` maps a handover key id to the columns it protects (e.g. one key for C3
    columns, one for C2, one for the rest); ``footer_key_id`` protects the footer.
    """
    for key_id in {*column_keys, footer_key_id}:
        keys.active(key_id)
    factory, config, _ = _factory(keys)
    return factory.file_encryption_properties(
        config, _encryption_config(column_keys, footer_key_id, data_key_bits)
    )


def decryption_properties(keys: Keys) -> pe.FileDecryptionProperties:
    """File decryption properties that unwrap data keys through the workspace's keys."""
    factory, config, _ = _factory(keys)
    return factory.file_decryption_properties(
        config, pe.DecryptionConfiguration(cache_lifetime=dt.timedelta(seconds=1))
    )


def write_table(
    ws: Workspace,
    table: pa.Table,
    path: Path,
    column_keys: dict[str, list[str]],
    footer_key_id: str,
    **write_options: Any,
) -> None:
    """Write ``table`` to ``path`` encrypted; every column must have a key (nothing left clear).

    The file is written next to ``path`` and renamed, so a failure leaves no partial file.
    """
    covered = [c for cols in column_keys.values() for c in cols]
    dupes = sorted({c for c in covered if covered.count(c) > 1})
    if dupes:
        raise BadInput.msg("crypto.parquet_dupe_keys", path=path, columns=", ".join(dupes))
    missing = [c for c in table.column_names if c not in covered]
    if missing:
        raise BadInput.msg("crypto.parquet_no_key", path=path, columns=", ".join(missing))
    unknown = sorted(set(covered) - set(table.column_names))
    if unknown:
        raise BadInput.msg("crypto.parquet_unknown_columns", path=path, columns=", ".join(unknown))
    tmp = path.with_name(f".{path.name}.partial")
    with Keys(ws) as keys:
        factory, config, clients = _factory(keys)
        props = factory.file_encryption_properties(
            config, _encryption_config(column_keys, footer_key_id, 256)
        )
        try:
            pq.write_table(table, tmp, encryption_properties=props, **write_options)
        except (HandoverError, OSError, pa.ArrowException) as exc:
            tmp.unlink(missing_ok=True)
            _translate(exc, clients, path, reading=False)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    tmp.replace(path)


def read_table(ws: Workspace, path: Path, columns: list[str] | None = None) -> pa.Table:
    """Read an encrypted Parquet file; the opaque DecryptionFailed if a key cannot open it.

    A destroyed key raises KeyDestroyed, naming when it was destroyed.
    """
    if not path.is_file():
        raise BadInput.msg("crypto.no_such_file", path=path)
    with Keys(ws) as keys:
        factory, config, clients = _factory(keys)
        props = factory.file_decryption_properties(
            config, pe.DecryptionConfiguration(cache_lifetime=dt.timedelta(seconds=1))
        )
        try:
            return pq.read_table(path, columns=columns, decryption_properties=props)
        except (HandoverError, OSError, pa.ArrowException) as exc:
            _translate(exc, clients, path)


def _translate(
    exc: Exception,
    clients: list[HandoverKmsClient],
    path: Path,
    *,
    reading: bool = True,
) -> NoReturn:
    """Re-raise a failure inside pyarrow as the one-line handover error it stands for."""
    first: Exception = exc
    if not isinstance(exc, HandoverError):
        first = next((c.error for c in clients if c.error is not None), exc)
    if isinstance(first, HandoverError) and not isinstance(first, DecryptionFailed):
        raise first from None
    if not reading:
        if isinstance(first, HandoverError):
            raise first from None
        raise BadInput.msg(
            "crypto.parquet_write", path=path, reason=f"{type(first).__name__}: {first}"
        ) from None
    # Any other failure to decrypt or authenticate (unknown key, altered bytes): opaque.
    raise DecryptionFailed.msg("crypto.decryption_failed", what=str(path)) from None
