"""Personal data protection applied by the loader, before anything is written.

- Person identifiers become keyed pseudonyms: HMAC-SHA256 with a secret kept outside the
  repository and the warehouse, computed in SQL (`pseudonym_sql`) so it is set-based.
  The same person gets the same pseudonym in every file and load.
- Free text has Chinese mobile numbers, national ID numbers (18 and 15 digits) and e-mail
  addresses masked (`mask_sql`; `mask_text` for messages built in Python), in ASCII or full
  width, with spaces, hyphens, dots or brackets between digit groups.
- The key must be the hex form of at least 32 random bytes (`settings.check_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

from pipelines.settings import KEY_BYTES, Settings, check_secret

logger = logging.getLogger(__name__)


def _fw(ascii_class: str) -> str:
    """A character class matching `ascii_class` (e.g. '1-9', 'Xx') in ASCII and full width."""
    wide = "".join(chr(ord(c) + 0xFEE0) if c != "-" else c for c in ascii_class)
    return f"[{ascii_class}{wide}]"


_D = _fw("0-9")
_SEP = "[ .\\-－．\u3000]?"  # one optional space, hyphen or dot between any two digits
_NOT_DIGIT = "[^0-9０-９]"


def _seq(*parts: str) -> str:
    """`parts` (one digit each, or an alternation of digit pairs) in a row, each pair of
    neighbouring digits optionally split by one separator."""
    return _SEP.join(parts)


def _pairs(*pairs: tuple[str, str]) -> str:
    return "(?:" + "|".join(_seq(_fw(a), _fw(b)) for a, b in pairs) + ")"


_YEAR_START = _pairs(("1", "9"), ("2", "0"))
_MONTH = _pairs(("0", "1-9"), ("1", "0-2"))
_DAY = _pairs(("0", "1-9"), ("1-2", "0-9"), ("3", "0-1"))
# 18 digits: area, birth date (century 19/20, month, day checked), sequence, check digit
_ID18 = _seq(_fw("1-9"), *[_D] * 5, _YEAR_START, _D, _D, _MONTH, _DAY, *[_D] * 3,
             _fw("0-9Xx"))
# 15 digits (issued before 1999): area, two-digit year, month, day, sequence
_ID15 = _seq(_fw("1-9"), *[_D] * 7, _MONTH, _DAY, *[_D] * 3)
_PREFIX_86 = (f"(?:(?:[+＋]|{_fw('0')}{{2}})?{_fw('8')}{_fw('6')}"
              f"|[(（][+＋]?{_fw('8')}{_fw('6')}[)）]){_SEP}")
_MOBILE_START = _seq(_fw("1"), _fw("3-9"), _D)
_MOBILE = (f"(?:{_PREFIX_86})?(?:{_MOBILE_START}|[(（]{_MOBILE_START}[)）])"
           f"{_SEP}{_seq(*[_D] * 8)}")
_EMAIL_CHAR = "A-Za-z0-9ａ-ｚＡ-Ｚ０-９"
_EMAIL = (f"[{_EMAIL_CHAR}._%+\\-．]+[@＠][{_EMAIL_CHAR}.\\-．]+[.．]"
          f"[A-Za-zａ-ｚＡ-Ｚ]{{2,}}")

# RE2 has no look-around: keep the neighbouring character in a group and put it back.
# Order matters: an 18-digit ID contains runs that look like a 15-digit ID or a mobile.
_MASKS = (
    (f"(^|{_NOT_DIGIT}){_ID18}({_NOT_DIGIT}|$)", r"\1[身份证号]\2"),
    (f"(^|{_NOT_DIGIT}){_ID15}({_NOT_DIGIT}|$)", r"\1[身份证号]\2"),
    (f"(^|{_NOT_DIGIT}){_MOBILE}({_NOT_DIGIT}|$)", r"\1[手机号]\2"),
    (_EMAIL, "[邮箱]"),
)
# Every text a pattern above matches holds an at sign or ten characters in a row that are
# digits, separators or brackets, starting with a digit (a mobile number has 11 digits).
_CANDIDATE = f"{_D}[0-9０-９ .\\-－．\u3000)）]{{9}}|[@＠]"
_PY_MASKS = tuple((re.compile(pattern), replacement) for pattern, replacement in _MASKS)
_PY_CANDIDATE = re.compile(_CANDIDATE)

PSEUDONYM_CHARS = 32


def mask_sql(expr: str) -> str:
    """SQL expression masking personal data inside the text expression `expr`.

    Digits and signs may be ASCII or full width. Each pattern runs twice because a match
    consumes the separator that the next adjacent number needs ("13812345678,13912345678").
    """
    masked = "_masked_text"
    for pattern, replacement in _MASKS:
        for _ in range(2):
            masked = f"regexp_replace({masked}, '{pattern}', '{replacement}', 'g')"
    # Most texts hold no long number and no '@': one cheap regex rules them out before
    # the eight replacements (a room number such as 1201 does not reach them).
    return (f"(case when regexp_matches({expr}, '{_CANDIDATE}') "
            f"then {masked.replace('_masked_text', expr)} else {expr} end)")


def mask_text(text: str) -> str:
    """`text` masked as `mask_sql` masks it, for messages built in Python."""
    if not _PY_CANDIDATE.search(text):
        return text
    for pattern, replacement in _PY_MASKS:
        for _ in range(2):
            text = pattern.sub(replacement, text)
    return text


def secret_key(settings: Settings) -> bytes:
    """The pseudonymisation key: WALL_SECRET, else the key file (created 0600 on first use).

    Raises:
        ValueError: the key is too short, not random or not hex (`check_secret`), or the
            key file can be read or changed by every user of the machine.
    """
    if settings.secret:
        return check_secret(settings.secret, "WALL_SECRET")
    path = Path(settings.secret_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES))
        logger.warning("created a new pseudonymisation key at %s; back it up", path)
    if path.stat().st_mode & 0o006:
        raise ValueError(f"{path}: refused as pseudonymisation key: every user of this "
                         f"machine can read or change it (chmod 600 {path})")
    return check_secret(path.read_text(encoding="utf-8"), str(path))


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
