"""Redact personal data before indexing: e-mail, phone, card (Luhn), IBAN (mod 97), ids."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# A run of 13–19 digits, optionally grouped by spaces or dashes; Luhn decides.
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# International (+country, then groups) or national ((area) or area, then two groups of 3-4
# digits), never part of a longer digit run; digit counts are checked below. Runs like
# "0417 1643 01" or "123-45-6789" are not phone numbers.
PHONE = re.compile(
    r"(?<![\w+])(?<!\d[ .-])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
    r"|(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4})(?![\w-])(?![ .-]\d)"
)
DEFAULT_ID_PATTERNS = {"ssn_us": r"\b\d{3}-\d{2}-\d{4}\b"}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


@dataclass
class Redaction:
    """Redacted text and how many of each kind were replaced."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)


class PiiRedactor:
    """Replaces personal data with `[KIND]` placeholders (cards go before phones on purpose)."""

    def __init__(self, id_patterns: Mapping[str, str] | None = None) -> None:
        patterns = DEFAULT_ID_PATTERNS if id_patterns is None else id_patterns
        self.id_patterns = {name: re.compile(p) for name, p in patterns.items()}

    def redact(self, text: str) -> Redaction:
        """The text with e-mails, cards, IBANs, national ids and phone numbers masked."""
        counts: Counter[str] = Counter()

        def sub(pattern: re.Pattern[str], label: str, text: str, valid: object = None) -> str:
            def replace(match: re.Match[str]) -> str:
                value = match.group(0)
                if callable(valid) and not valid(value):
                    return value
                counts[label] += 1
                return f"[{label.upper()}]"

            return pattern.sub(replace, text)

        text = sub(EMAIL, "email", text)
        text = sub(CARD, "card", text, lambda v: luhn_valid(re.sub(r"\D", "", v)))
        text = sub(IBAN, "iban", text, iban_valid)
        for name, pattern in self.id_patterns.items():
            text = sub(pattern, f"id_{name}", text)
        # E.164 numbers have at most 15 digits; longer runs are not phone numbers.
        text = sub(PHONE, "phone", text, lambda v: 9 <= len(re.sub(r"\D", "", v)) <= 15)
        return Redaction(text, counts)
