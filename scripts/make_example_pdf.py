"""Generate the example travel-policy PDF (two pages, Helvetica) without any PDF library."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "examples" / "policies" / "travel-policy.pdf"

# A4 portrait, in PDF points.
PAGE_WIDTH = 595
PAGE_HEIGHT = 842
MARGIN_LEFT = 72
MARGIN_RIGHT = 72
MARGIN_TOP = 72
MARGIN_BOTTOM = 72
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

# Fixed metadata so that every run produces byte-identical output.
PDF_DATE = "D:20270101090000Z"

# Advance widths (1/1000 em) of the printable ASCII characters 32..126, from the Adobe
# core-font metrics. Only used to wrap lines; the viewer supplies the real font.
_HELVETICA = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 "
    "556 556 556 556 278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 "
    "556 833 722 778 667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 333 556 "
    "556 500 556 556 278 556 556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 "
    "500 500 500 334 260 334 584"
)
_HELVETICA_BOLD = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 "
    "556 556 556 556 333 333 584 584 584 611 975 722 722 722 722 667 611 778 722 278 556 722 "
    "611 833 722 778 667 778 722 667 611 722 667 944 667 667 611 333 278 333 584 556 333 556 "
    "611 556 611 556 333 611 611 278 278 556 278 889 611 611 611 611 389 556 333 611 556 778 "
    "556 556 500 389 280 389 584"
)
WIDTHS: dict[str, list[int]] = {
    "F1": [int(w) for w in _HELVETICA.split()],
    "F2": [int(w) for w in _HELVETICA_BOLD.split()],
}
FONTS: dict[str, str] = {"F1": "Helvetica", "F2": "Helvetica-Bold"}


@dataclass(frozen=True)
class Block:
    """A run of text drawn in one style: a title, a heading or a paragraph."""

    kind: str  # "title", "heading", "para" or "bullet"
    text: str


# (font resource, size, leading, space before)
STYLES: dict[str, tuple[str, float, float, float]] = {
    "title": ("F2", 20, 24, 0),
    "meta": ("F1", 9, 12, 4),
    "heading": ("F2", 13, 16, 14),
    "para": ("F1", 10.5, 14, 6),
    "bullet": ("F1", 10.5, 14, 3),
}

PAGES: list[list[Block]] = [
    [
        Block("title", "Northwind Labs Travel Policy"),
        Block(
            "meta",
            "Policy owner: Finance and Security. Effective date: 1 January 2027. "
            "Applies to all employees in Amsterdam, Berlin and Lisbon.",
        ),
        Block("heading", "1. Purpose and Scope"),
        Block(
            "para",
            "This policy describes how Northwind Labs employees book and carry out business "
            "travel. It aims to keep travellers safe and comfortable while spending company money "
            "responsibly. Meal allowances and the reimbursement of other costs are covered by the "
            "Expense Policy; working from abroad without a business reason is covered by the "
            "Remote Work Policy. Days abroad on an approved business trip do not count towards "
            "the 30-day limit for international remote work.",
        ),
        Block("heading", "2. Booking Rules"),
        Block(
            "para",
            "All business trips must be approved by your manager before anything is booked. "
            "Flights, trains and hotels are booked through the company travel portal, which "
            "applies the negotiated rates and the limits in this policy automatically.",
        ),
        Block("bullet", "- Book at least 14 days before departure whenever possible."),
        Block("bullet", "- Choose the lowest reasonable fare; flexible tickets need a reason."),
        Block("bullet", "- Trips outside Europe also need approval from the department head."),
        Block("bullet", "- Private extensions of a business trip are paid by the employee."),
        Block("bullet", "- Loyalty points may be kept but must never influence the booking."),
        Block("heading", "3. Flights"),
        Block(
            "para",
            "Flights with a scheduled duration below 6 hours are booked in economy class. For "
            "flights of 6 hours or longer, premium economy may be booked. Business class is only "
            "allowed for flights of 6 hours or longer with written approval from the department "
            "head, for example when the traveller has to present at a customer meeting on the "
            "day of arrival. Paid seat selection and one checked bag are covered.",
        ),
        Block("heading", "4. Trains and Local Transport"),
        Block(
            "para",
            "For journeys that take less than 5 hours by train, the train is preferred over a "
            "flight. Second class is the standard; first class may be booked for train journeys "
            "longer than 3 hours so that the time can be used for work. At the destination, use "
            "public transport where practical. Taxis and ride-hailing services are reimbursed "
            "late at night, with heavy luggage, or when public transport is not available. "
            "Rental cars need manager approval and are booked in the compact category.",
        ),
    ],
    [
        Block("heading", "5. Hotels"),
        Block(
            "para",
            "Hotels are booked through the travel portal. The following caps apply per night, "
            "including taxes and excluding breakfast. Conference hotels may exceed the cap when "
            "the event organiser has negotiated the rate.",
        ),
        Block("bullet", "- Amsterdam: 180 EUR per night"),
        Block("bullet", "- Berlin: 150 EUR per night"),
        Block("bullet", "- Lisbon: 130 EUR per night"),
        Block("bullet", "- London: 220 EUR per night"),
        Block("bullet", "- New York: 280 EUR per night"),
        Block("bullet", "- All other cities: 140 EUR per night"),
        Block(
            "para",
            "Stays with friends or family are welcome, but no accommodation allowance is paid "
            "for them. Short-term apartments are allowed for stays of more than five nights if "
            "they stay within the cap.",
        ),
        Block("heading", "6. Travel Insurance"),
        Block(
            "para",
            "Every approved business trip is covered by the Northwind Labs group travel "
            "insurance. It covers emergency medical treatment abroad, medical repatriation, "
            "trip cancellation for reasons outside your control, and lost or delayed luggage. "
            "The insurance certificate and the 24-hour assistance number are available on the "
            "intranet; save the number in your phone before you leave. Private days added to a "
            "business trip are not covered, so arrange your own insurance for them.",
        ),
        Block("heading", "7. Safety"),
        Block(
            "para",
            "Your safety comes first. Check the official travel advice for your destination "
            "before booking. Travel to countries rated high risk requires prior approval from "
            "the security team. Keep your itinerary up to date in the travel portal so that the "
            "company can reach you in an emergency.",
        ),
        Block("bullet", "- Keep your laptop and phone with you; never put them in checked bags."),
        Block("bullet", "- Always use the company VPN on hotel, airport and train Wi-Fi."),
        Block(
            "bullet",
            "- Report a lost or stolen device to security@northwind.example within 1 hour.",
        ),
        Block("bullet", "- In a medical emergency, call local emergency services first."),
        Block("heading", "8. Contact"),
        Block(
            "para",
            "Questions about booking can be sent to travel@northwind.example. Questions about "
            "reimbursement and per-diem limits are answered by finance@northwind.example.",
        ),
    ],
]


def text_width(text: str, font: str, size: float) -> float:
    """Return the width of `text` in points when set in `font` at `size`."""
    widths = WIDTHS[font]
    return sum(widths[ord(ch) - 32] for ch in text) * size / 1000


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedily break `text` into lines no wider than `width` points."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def escape(text: str) -> str:
    """Escape a string for use inside a PDF literal string."""
    for ch in text:
        if not 32 <= ord(ch) <= 126:
            raise ValueError(f"only printable ASCII is supported, got {ch!r} in {text!r}")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def page_stream(blocks: list[Block], page_number: int, page_count: int) -> bytes:
    """Lay out one page of blocks and return its content stream."""
    ops: list[str] = []
    y: float = PAGE_HEIGHT - MARGIN_TOP
    first = True
    for block in blocks:
        font, size, leading, space_before = STYLES[block.kind]
        if not first:
            y -= space_before
        first = False
        indent = 12 if block.kind == "bullet" else 0
        for line in wrap(block.text, font, size, TEXT_WIDTH - indent):
            y -= leading
            if y < MARGIN_BOTTOM:
                raise ValueError(f"page {page_number} overflows at {line!r}")
            ops.append(
                f"BT /{font} {size:g} Tf {MARGIN_LEFT + indent} {y:g} Td ({escape(line)}) Tj ET"
            )
    footer = f"Northwind Labs Travel Policy - Page {page_number} of {page_count}"
    footer_x = PAGE_WIDTH - MARGIN_RIGHT - text_width(footer, "F1", 8)
    ops.append(f"BT /F1 8 Tf {footer_x:.2f} 40 Td ({escape(footer)}) Tj ET")
    return ("\n".join(ops) + "\n").encode("ascii")


def build_pdf(pages: list[list[Block]]) -> bytes:
    """Assemble a complete PDF 1.4 document with one content stream per page."""
    # Object numbers: 1 catalog, 2 pages, 3 info, 4-5 fonts, then (page, content) pairs.
    font_ids = {"F1": 4, "F2": 5}
    page_ids = [6 + 2 * i for i in range(len(pages))]
    objects: dict[int, bytes] = {}
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode("ascii")
    objects[3] = (
        "<< /Title (Northwind Labs Travel Policy) /Author (Northwind Labs) "
        "/Subject (Fictional example document) /Producer (make_example_pdf.py) "
        f"/CreationDate ({PDF_DATE}) /ModDate ({PDF_DATE}) >>"
    ).encode("ascii")
    for name, oid in font_ids.items():
        objects[oid] = (
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{FONTS[name]} /Encoding /WinAnsiEncoding >>"
        ).encode("ascii")
    fonts = " ".join(f"/{name} {oid} 0 R" for name, oid in font_ids.items())
    for index, (blocks, pid) in enumerate(zip(pages, page_ids, strict=True)):
        stream = page_stream(blocks, index + 1, len(pages))
        objects[pid] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << {fonts} >> >> /Contents {pid + 1} 0 R >>"
        ).encode("ascii")
        objects[pid + 1] = (
            f"<< /Length {len(stream)} >>\nstream\n".encode("ascii") + stream + b"endstream"
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += f"{oid} 0 obj\n".encode("ascii") + objects[oid] + b"\nendobj\n"
    xref_offset = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n".encode("ascii")
    out += b"0000000000 65535 f \n"
    for oid in range(1, size):
        out += f"{offsets[oid]:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {size} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


def main() -> None:
    """Write the travel-policy PDF to the path given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    output: Path = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(build_pdf(PAGES))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
