"""Check a file before parsing: its bytes must be what its extension says; pick its text codec.

Parsers handed the wrong bytes fail unhelpfully or, worse, succeed with garbage: random bytes
named .html come out as "Windows-1250" text, and HTML nested deeper than libxml2 reads loses
everything below that depth without a word. These checks make each case a typed failure with a
reason a person can act on, and `explain_no_text` says why a parse that found no text did.
"""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

TEXT_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".rst", ".csv", ".tsv", ".json"}
    | {".html", ".htm", ".xhtml", ".xml"}
)
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
ZIP_SUFFIXES = frozenset({".docx", ".pptx", ".xlsx", ".epub"})
# libxml2's HTML parser (lxml, under unstructured) stops at 256 levels and silently drops
# everything below, and everything after it; XML past that depth is a parse error already.
MAX_NESTING = 255
MAX_CONTROL_SHARE = 0.05  # more control characters than this in text: it is binary data

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class UnreadableFile(ValueError):
    """A file that cannot be parsed, with a reason a person can act on."""


class WrongFormat(UnreadableFile):
    """The bytes are not what the extension says (binary junk named .pdf, .docx or .html)."""


class PasswordProtected(UnreadableFile):
    """An encrypted PDF that needs a password to open."""


class CorruptFile(UnreadableFile):
    """A damaged or truncated file of the right format."""


class TooDeeplyNested(UnreadableFile):
    """Markup nested deeper than the parser reads; the text below would be lost silently."""


class FileVanished(UnreadableFile):
    """The file was deleted or moved between listing and parsing."""


def check_file(
    path: Path, fallback_encoding: str = "cp1252", declared: str | None = None
) -> str | None:
    """Raise UnreadableFile if the bytes do not fit the extension; the codec of a text format.

    `declared`: the charset the transport declared (an HTTP Content-Type's), tried first.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileVanished("the file was deleted or moved after it was listed") from None
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        _check_pdf(data)
    elif suffix in ZIP_SUFFIXES and not data.startswith(b"PK\x03\x04"):
        raise WrongFormat(f"not a {suffix} file: it is not a ZIP archive")
    elif suffix in TEXT_SUFFIXES:
        encoding, text = decode_text(data, suffix, fallback_encoding, declared)
        depth = html_depth(data) if suffix in HTML_SUFFIXES else 0
        depth = markdown_depth(text) if suffix in MARKDOWN_SUFFIXES else depth
        if depth > MAX_NESTING:
            raise TooDeeplyNested(
                f"markup nested deeper than {MAX_NESTING} levels: the parser would silently drop "
                "everything below that depth, so flatten the file"
            )
        return encoding
    return None


def decode_text(
    data: bytes, suffix: str, fallback_encoding: str, transport: str | None = None
) -> tuple[str, str]:
    """(codec, text): a BOM's codec, else the transport's charset, UTF-8, a charset the text
    declares, the fallback, Latin-1 (the first that decodes; a BOM and then the transport win,
    as in browsers)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, data.decode(codec, errors="replace")
    if b"\x00" in data:
        raise WrongFormat(f"binary data in a {suffix} file (it contains NUL bytes)")
    declared = [m.decode("ascii") for m in _DECLARED.findall(data[:2048])[:1]]
    first = [transport] if transport else []
    for codec in (*first, "utf-8", *declared, fallback_encoding, "latin-1"):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        sample = text[:65536]
        if sample and len(_CONTROL.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
            raise WrongFormat(f"binary data in a {suffix} file (mostly control characters)")
        return codecs.lookup(codec).name, text
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def html_depth(data: bytes) -> int:
    """Deepest element nesting as lxml's HTML parser builds it (it stops counting at 257)."""
    from lxml import etree

    depth = deepest = 0
    events = etree.iterparse(
        io.BytesIO(data), events=("start", "end"), html=True, recover=True, huge_tree=True
    )
    try:
        for event, _ in events:
            depth += 1 if event == "start" else -1
            deepest = max(deepest, depth)
    except etree.LxmlError:  # unparseable markup: the parser proper will say so
        pass
    return deepest


def markdown_depth(text: str) -> int:
    """Deepest blockquote-plus-list nesting of Markdown: `>` markers plus indentation steps."""
    deepest = 0
    widths = [0]  # indentation of each open level, like Python's indent stack
    for line in text.splitlines():
        expanded = line.expandtabs(4)
        body = expanded.lstrip(" >")
        if not body:
            continue
        lead = expanded[: len(expanded) - len(body)]
        width = lead.count(" ")
        while widths[-1] > width:
            widths.pop()
        if width > widths[-1]:
            widths.append(width)
        deepest = max(deepest, lead.count(">") + len(widths) - 1)
    return deepest


def explain_no_text(path: Path) -> UnreadableFile | None:
    """Why a file that parsed without error yielded no text, when the bytes tell."""
    if path.suffix.lower() != ".pdf":
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"%%EOF" not in data[-2048:]:
        return CorruptFile("the PDF is truncated or damaged (no %%EOF end marker); no text read")
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except Exception as exc:
        return CorruptFile(f"the PDF is damaged: {exc}")
    return CorruptFile("the PDF is damaged: it has no pages") if pages == 0 else None


def _check_pdf(data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise WrongFormat("not a PDF: no %PDF- header (another format renamed .pdf?)")
    if b"/Encrypt" in data and _needs_password(data):
        raise PasswordProtected("the PDF is password-protected; remove the password or exclude it")


def _needs_password(data: bytes) -> bool:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        return bool(reader.is_encrypted) and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception:  # a damaged file: the parser and explain_no_text describe it
        return False
