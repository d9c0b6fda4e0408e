"""Ed25519 signatures over job bundles: the server signs, agents verify.

What is signed is a short statement, not the zip:
``fabthread-bundle-v1\\n<order_id>\\n<sha256>\\n``.
The sha256 pins the exact bytes, the order id stops a valid bundle being replayed as another
order. The private key lives in ``<var>/signing_ed25519.pem`` (mode 0600, made on first use);
agents get the public key as base64 of its 32 raw bytes (``GET /signing-key`` or a pinned file).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fabthread.errors import BundleError

KEY_NAME = "signing_ed25519.pem"


def statement(order_id: str, sha256: str) -> bytes:
    return f"fabthread-bundle-v1\n{order_id}\n{sha256.lower()}\n".encode()


def load_or_create_key(var_dir: str | Path) -> Ed25519PrivateKey:
    """The server's signing key, created (0600) on first use."""
    path = Path(var_dir) / KEY_NAME
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise BundleError(f"{path}: not an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    try:
        os.link(tmp, path)  # fails if another process made the key first: keep theirs
    except FileExistsError:
        tmp.unlink()
        return load_or_create_key(var_dir)
    tmp.unlink()
    return key


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(key: Ed25519PrivateKey, order_id: str, sha256: str) -> str:
    return base64.b64encode(key.sign(statement(order_id, sha256))).decode()


def verify(public_b64: str, order_id: str, sha256: str, signature_b64: str) -> None:
    """Raise BundleError unless ``signature_b64`` signs (order_id, sha256) with the key."""
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        pub.verify(base64.b64decode(signature_b64, validate=True), statement(order_id, sha256))
    except (InvalidSignature, ValueError) as exc:
        raise BundleError(
            f"bundle of order {order_id}: signature does not match the server key"
        ) from exc
