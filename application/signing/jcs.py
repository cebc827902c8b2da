"""RFC 8785 (JCS) canonical JSON, and the bytes a client signs for a command.

`canonicalize` is plain RFC 8785 as implemented by the `rfc8785` package.
`canonicalize_command` adds this project's policy on top: a command may hold
only null, booleans, safe integers, strings, arrays and objects with string
keys. Floats are refused outright, because scores travel as decimal strings
("2.935") and a float that slipped in would be signed in a form (ES6 number
formatting) that few clients reproduce exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

__all__ = [
    "COMMAND_CONTEXT",
    "MAX_SAFE_INTEGER",
    "canonicalize",
    "canonicalize_command",
    "signing_input",
]

#: Domain separation for command signatures: a signature over a command can
#: never be replayed as a signature over any other kind of message.
COMMAND_CONTEXT = b"parindex-command/v1\n"

#: ECMAScript Number.MAX_SAFE_INTEGER. Beyond it a JSON number no longer names
#: one integer for every reader, so two parties could sign different values.
MAX_SAFE_INTEGER = 2**53 - 1

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of ``obj``.

    Raises ``ValueError`` (``rfc8785.CanonicalizationError``) for values JCS
    cannot represent: NaN, infinities, integers outside the safe range,
    non-string object keys, strings that are not valid Unicode.
    """
    return rfc8785.dumps(obj)


def canonicalize_command(obj: Any) -> bytes:
    """Canonicalize a command under the project's no-float policy.

    Raises ``ValueError`` naming the JSON path (``$.scores[2].value``) of the
    first offending value: a float, an integer beyond +-(2**53 - 1), a
    non-string object key, a string with lone surrogates, or any type that is
    not null/bool/int/str/list/tuple/dict.
    """
    _check(obj, "$")
    return rfc8785.dumps(obj)


def signing_input(command: dict) -> bytes:
    """Return the exact bytes an actor signs: ``COMMAND_CONTEXT || JCS(command)``."""
    if not isinstance(command, dict):
        raise ValueError(f"a command must be a JSON object, not {type(command).__name__}")
    return COMMAND_CONTEXT + canonicalize_command(command)


def _check(value: Any, path: str) -> None:
    # Walk the whole value before serializing, so the error can say *where*
    # the bad value is; rfc8785's own errors do not.
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer {value} is outside +-(2**53 - 1)")
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed in commands; send decimals as strings")
    if isinstance(value, str):
        _check_text(value, path)
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key {key!r} is not a string")
            _check_text(key, f"{path} (key {key!r})")
            _check(item, _member_path(path, key))
        return
    raise ValueError(f"{path}: unsupported type {type(value).__name__}")


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path}: string is not valid Unicode (lone surrogate)") from exc


def _member_path(path: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=True)}]"
