"""The shell every smrkit HTML page shares: one self-contained document, inline style."""

from __future__ import annotations

import html
from collections.abc import Sequence


def document(title: str, css: str, body: Sequence[str]) -> str:
    """A whole HTML page: ``title`` (escaped here), ``css`` and ``body`` (already HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title, quote=True)}</title>\n<style>{css}</style>\n</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
