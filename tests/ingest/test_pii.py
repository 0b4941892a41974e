"""PII redaction: what is masked, what is left alone, and page offsets after redaction."""

from __future__ import annotations

import pytest

from rag_pipelines.ingest.models import Document, Section
from rag_pipelines.ingest.pii import PiiRedactor, iban_valid, luhn_valid
from rag_pipelines.ingest.safety import redact_document


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("write to jane.doe+hr@corp.example today", "write to [EMAIL] today", "email"),
        ("card 4111 1111 1111 1111 on file", "card [CARD] on file", "card"),
        ("card 4111-1111-1111-1111", "card [CARD]", "card"),
        ("iban NL91 ABNA 0417 1643 00.", "iban [IBAN].", "iban"),
        ("iban DE89370400440532013000", "iban [IBAN]", "iban"),
        ("ssn 123-45-6789", "ssn [ID_SSN_US]", "id_ssn_us"),
        ("call +31 20 123 4567 now", "call [PHONE] now", "phone"),
        ("call (555) 123-4567", "call [PHONE]", "phone"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str, kind: str) -> None:
    result = PiiRedactor().redact(text)
    assert result.text == expected
    assert result.counts[kind] == 1


@pytest.mark.parametrize(
    "text",
    [
        "the year 2027 and room 12-34",
        "version 1.2.3 of the policy",
        "25 days of vacation, 20 weeks of leave",
        "reference 4111 1111 1111 1112 is not a valid card",  # fails Luhn, 16 digits: no phone
        "NL91 ABNA 0417 1643 01 fails mod 97",
        "an email-like token user@localhost is not an address",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = PiiRedactor().redact(text)
    assert result.text == text, result.counts


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82 WEST 1234 5698 7654 32", True),
        ("GB82 WEST 1234 5698 7654 33", False),
        ("XX12", False),
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


def test_custom_id_patterns_replace_the_defaults() -> None:
    redactor = PiiRedactor({"bsn_nl": r"\bBSN \d{9}\b"})
    assert redactor.redact("BSN 123456782 and 123-45-6789").text == "[ID_BSN_NL] and 123-45-6789"


def test_redacting_a_document_keeps_page_offsets_exact() -> None:
    """Regression guard: masking changes lengths, so page starts must be recomputed."""
    page_one = "Contact jane@corp.example for help."
    page_two = "Page two starts here with card 4111 1111 1111 1111."
    section = Section(
        path=["Help"],
        text=f"{page_one}\n\n{page_two}",
        page_starts=[(0, 1), (len(page_one) + 2, 2)],
    )
    doc = Document(
        id="d", source="s", uri="file:///d", content_hash="h", title="t", sections=[section]
    )
    redacted = redact_document(doc, PiiRedactor())
    out = redacted.sections[0]
    offset = dict((p, o) for o, p in out.page_starts)[2]
    assert out.text[offset:].startswith("Page two starts here")
    assert "[EMAIL]" in out.text and "[CARD]" in out.text
    assert redacted.metadata["pii_redactions"] == 2
    assert redacted.metadata["pii_email"] == 1
