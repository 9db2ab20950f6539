"""The API key: a value cleaned once, and hidden from every text the provider builds.

An answer or a transport error can carry the key in any field (``error.message``, ``error.type``,
a body ``code``) and in any spelling: raw, escaped as Python's ``repr`` writes it (httpx's "Illegal
header value b'Bearer ...'"), or escaped as JSON writes it. :class:`Redactor` knows every spelling
of one key and replaces each one, in a text or in every string of a decoded JSON answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from airflow_provider_apimart.exceptions import ApimartConfigurationError

REDACTED = "***"
#: Shorter values are not hidden (Airflow's own masker skips them too): a key of two letters is no
#: secret, and hiding it would rewrite every word of an answer that contains them.
MIN_SECRET_CHARS = 5
#: What an HTTP header value may carry, and what APIMart's keys are made of: visible ASCII.
_VISIBLE_ASCII = range(0x21, 0x7F)


def clean_api_key(raw: str, *, conn_id: str) -> str:
    """The key without surrounding whitespace (a secret mounted from a file ends in a newline, and
    APIMart's own client trims it too); a key with any other invisible or non-ASCII character
    cannot be sent in a header, so it is refused here, in words that show no part of it."""
    key = raw.strip()
    if not key:
        raise ApimartConfigurationError(
            f"Connection {conn_id!r} has no API key: its password field holds only whitespace."
        )
    for position, character in enumerate(key, start=1):
        if ord(character) not in _VISIBLE_ASCII:
            kind = (
                "a space"
                if character == " "
                else "a control character"
                if ord(character) < 0x20
                else ("a character that is not visible ASCII")
            )
            raise ApimartConfigurationError(
                f"Connection {conn_id!r}: its API key has {kind} at position {position} of {len(key)}. "
                "Paste the key again as APIMart shows it (letters, digits and punctuation only)."
            )
    return key


@dataclass(frozen=True, slots=True)
class Redactor:
    """Hides one secret, in every spelling of it, from text and from decoded JSON."""

    forms: tuple[str, ...] = ()

    @classmethod
    def of(cls, *secrets: str) -> Redactor:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_CHARS:
                forms.update({secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]})
        # Longest first, so a spelling that contains another is replaced whole.
        return cls(tuple(sorted(forms, key=len, reverse=True)))

    def text(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def may_hide_in(self, raw_body: str) -> bool:
        """Whether a JSON body's decoded strings can hold the secret: only if its text holds a
        spelling of it, or an escape (``\\u0073`` decodes to a letter of it)."""
        return bool(self.forms) and ("\\" in raw_body or any(form in raw_body for form in self.forms))

    def json(self, value: Any) -> Any:
        """``value`` with the secret replaced in every string, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {self.json(key): self.json(item) for key, item in value.items()}
        return value


NO_SECRET = Redactor()
