"""The cipher of resident registration numbers: AES-GCM (``cryptography``), keys outside the database.

Keys come from the environment or a key file, never from the database:

- ``KINDCITY_RRN_KEYS``: ``id:base64key,id:base64key`` (32-byte keys), and ``KINDCITY_RRN_KEY_ID``, the
  id new numbers are encrypted under; or
- ``KINDCITY_RRN_KEY_FILE``: a JSON file ``{"current": "id", "keys": {"id": "base64key"}}``.

Each ciphertext is stored with the id of its key, so an old key keeps decrypting until
``kindcity rotate-rrn-key`` has re-encrypted every number under the current one. The row's owner is
bound in as associated data: a ciphertext copied onto another donor's row does not decrypt.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class KeyringError(RuntimeError):
    """No usable key (never says anything about a number)."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]

    def encrypt(self, plain: str, owner: str) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain.encode("ascii"), owner.encode())
        return self.current, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, owner: str) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyringError(f"key {key_id!r} is not configured")
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], owner.encode()).decode("ascii")
        except InvalidTag as error:
            raise KeyringError(f"a ciphertext under key {key_id!r} does not decrypt") from error


def new_key() -> str:
    """A fresh key, base64, for the configuration."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _decode(key_id: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise KeyringError(f"key {key_id!r} is not base64") from error
    if len(key) != 32:
        raise KeyringError(f"key {key_id!r} must be 32 bytes")
    return key


def keyring_from_config(config) -> Keyring | None:
    """The configured keyring, or None when year-end reporting is not set up on this site."""
    path = config.get("KINDCITY_RRN_KEY_FILE")
    if path:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        current, pairs = data["current"], data["keys"].items()
    elif config.get("KINDCITY_RRN_KEYS"):
        current = config.get("KINDCITY_RRN_KEY_ID", "")
        pairs = (part.split(":", 1) for part in config["KINDCITY_RRN_KEYS"].split(",") if ":" in part)
    else:
        return None
    keys = {key_id.strip(): _decode(key_id.strip(), text.strip()) for key_id, text in pairs}
    if current not in keys:
        raise KeyringError(f"the current key {current!r} is not among the configured keys")
    return Keyring(current=current, keys=keys)
