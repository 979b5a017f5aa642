"""Personal data protection applied by the loader, before anything is written.

- Person identifiers become keyed pseudonyms: HMAC-SHA256 with a secret kept outside the
  repository and the warehouse, computed in SQL (`pseudonym_sql`) so it is set-based.
  The same person gets the same pseudonym in every file and load.
- Free text has Chinese mobile numbers, national ID numbers and e-mail addresses masked
  (`mask_sql`), including text kept in quarantine.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from pipelines.settings import Settings

logger = logging.getLogger(__name__)

# RE2 has no look-around: keep the neighbouring character in a group and put it back.
# Order matters: an 18-digit ID contains 11-digit runs that look like mobile numbers.
_MASKS = (
    (r"(^|[^0-9A-Za-z])[1-9][0-9]{5}(19|20)[0-9]{2}[0-9]{7}[0-9Xx]([^0-9A-Za-z]|$)",
     r"\1[身份证号]\3"),
    (r"(^|[^0-9])(\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}([^0-9]|$)",
     r"\1[手机号]\3"),
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "[邮箱]"),
)

# Every text a pattern above matches contains one of these.
_MUST_CONTAIN_ONE = ("@", "13", "14", "15", "16", "17", "18", "19", "20")

PSEUDONYM_CHARS = 32


def mask_sql(expr: str) -> str:
    """SQL expression masking personal data inside the text expression `expr`.

    Each pattern runs twice because a match consumes the separator that the next
    adjacent number needs ("13812345678,13912345678").
    """
    masked = "_masked_text"
    for pattern, replacement in _MASKS:
        for _ in range(2):
            masked = f"regexp_replace({masked}, '{pattern}', '{replacement}', 'g')"
    # Most texts hold no long number and no '@': test that before the replacements, first
    # with literals every match contains (a mobile number has 1[3-9], an ID number 19 or
    # 20), at a quarter of the cost of any regular expression, then with a regex.
    literals = " or ".join(f"contains({expr}, '{s}')" for s in _MUST_CONTAIN_ONE)
    return (f"(case when ({literals}) and regexp_matches({expr}, '[0-9][0-9 -]{{9}}|@') "
            f"then {masked.replace('_masked_text', expr)} else {expr} end)")


def secret_key(settings: Settings) -> bytes:
    """The pseudonymisation key: WALL_SECRET, else the key file (created 0600 on first use)."""
    if settings.secret:
        return settings.secret.encode("utf-8")
    path = Path(settings.secret_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        logger.warning("created a new pseudonymisation key at %s; back it up", path)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def hmac_params(key: bytes) -> dict[str, bytes]:
    """Bound parameters `$hmac_ipad` and `$hmac_opad` that `pseudonym_sql` uses."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return {
        "hmac_ipad": bytes(b ^ 0x36 for b in key),
        "hmac_opad": bytes(b ^ 0x5C for b in key),
    }


def pseudonym_sql(expr: str) -> str:
    """SQL for HMAC-SHA256(key, trimmed upper-case `expr`), cut to 32 hex characters."""
    normalised = f"upper(trim({expr}))"
    inner = f"unhex(sha256($hmac_ipad || encode({normalised})))"
    return f"case when {expr} is null then null else " \
           f"left(sha256($hmac_opad || {inner}), {PSEUDONYM_CHARS}) end"


def pseudonym(key: bytes, value: str) -> str:
    """The same pseudonym as `pseudonym_sql`, computed in Python (tests, lookups)."""
    digest = hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_CHARS]
