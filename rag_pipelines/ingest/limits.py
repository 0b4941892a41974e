"""Per-file resource bounds of parsing, and the typed failures for a file that exceeds them."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.ingest.sniff import UnreadableFile

MB = 1024 * 1024


class TooLarge(UnreadableFile):
    """The file's text, or the memory its parser needs, is over a configured bound."""


class ParseTimeout(UnreadableFile):
    """Parsing took longer than `max_parse_seconds`; the parser process was killed."""


class ParserCrashed(UnreadableFile):
    """The parser process died (a crash in native code); the file is skipped."""


@dataclass(frozen=True)
class ParseLimits:
    """What one file may cost: wall time, inflated archive bytes, text, parser memory."""

    seconds: float = 120.0
    expanded_bytes: int = 256 * MB
    text_chars: int = 16 * MB
    memory_bytes: int = 4096 * MB

    @classmethod
    def of(cls, connector: ConnectorSettings) -> ParseLimits:
        """The limits a source's connector configures (every connector has them)."""
        return cls(
            seconds=connector.max_parse_seconds,
            expanded_bytes=int(connector.max_expanded_mb * MB),
            text_chars=int(connector.max_text_mb * MB),
            memory_bytes=int(connector.max_parse_memory_mb * MB),
        )
