"""Flag chunks that look like prompt injection: instructions aimed at an LLM reading them.

A heuristic, not a classifier: it flags for downstream care (the payload says why), it never
drops content. Each signal is a phrase family seen in published injection examples.
"""

from __future__ import annotations

import re

SIGNALS: dict[str, re.Pattern[str]] = {
    "ignore_instructions": re.compile(
        r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|any|your)\b"
        r"[^.\n]{0,30}\b(instructions?|prompts?|rules|directions|guidelines)\b",
        re.I,
    ),
    "role_override": re.compile(
        r"\byou are now\b|\bfrom now on,? you\b|\bact as (an?|the) \w+", re.I
    ),
    "system_prompt": re.compile(
        r"\b(reveal|print|show|repeat|leak)\b[^.\n]{0,30}"
        r"\b(system|hidden|initial) (prompt|instructions?)\b",
        re.I,
    ),
    "chat_markup": re.compile(
        r"<\|im_(start|end)\|>|\[/?INST\]|<<SYS>>|^\s*#{2,}\s*(system|instruction)\b", re.I | re.M
    ),
    "concealment": re.compile(
        r"\b(do not|don't|never) (tell|inform|reveal to|mention to) the user\b", re.I
    ),
    "tool_abuse": re.compile(
        r"\b(send|post|upload|exfiltrate)\b[^.\n]{0,40}\b(api key|password|credentials|secrets?)\b",
        re.I,
    ),
}


def injection_signals(text: str) -> list[str]:
    """Names of the signals found in a text (empty when it looks benign)."""
    return [name for name, pattern in SIGNALS.items() if pattern.search(text)]
