"""Parse many records with one lxml call: the same trees as one `fromstring` per record.

For records of a few hundred bytes (artists, labels) lxml's per-call setup costs more than the
parse. The records are joined with an empty comment between them and parsed as the children
of one wrapper element; the result is used only when the wrapper's children alternate
element, separator, element, ... — then no record's markup reached into a neighbour and each
record is exactly one element (trailing whitespace aside), so parsed alone it gives the same
tree. Otherwise (an XML error anywhere, a record that is not one element, a comment, CDATA or
processing instruction in the data) every record is parsed alone, as before, so errors are
reported with the same messages.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

_SEP = b"<!---->"
_XML_SPACE = " \t\n"  # the parser has already turned \r into \n


def parse_records(pieces: list[bytes], parser: etree.XMLParser) -> list[Any]:
    """One parsed element, or the XMLSyntaxError parsing it alone raised, per piece."""
    if len(pieces) > 1:
        joined = _SEP.join(pieces)
        if joined.count(b"<!") == len(pieces) - 1 and b"<?" not in joined:
            try:
                root = etree.fromstring(b"<x>" + joined + b"</x>", parser)
            except etree.XMLSyntaxError:
                pass
            else:
                nodes = list(root)
                elements = nodes[::2]
                if len(nodes) == 2 * len(pieces) - 1 and _separated(root, elements, nodes[1::2]):
                    return elements
    return [_parse_one(piece, parser) for piece in pieces]


def _separated(root: Any, elements: list[Any], separators: list[Any]) -> bool:
    """Elements at the even places, separators at the odd ones, only whitespace between."""
    if _text(root.text):
        return False
    comment = etree.Comment
    for separator in separators:
        if separator.tag is not comment or _text(separator.tail):
            return False
    for element in elements:
        if not isinstance(element.tag, str) or _text(element.tail):
            return False
    return True


def _text(text: str | None) -> bool:
    """Whether text holds more than XML whitespace (which a record may have around it)."""
    return bool(text and text.strip(_XML_SPACE))


def _parse_one(piece: bytes, parser: etree.XMLParser) -> Any:
    try:
        return etree.fromstring(piece, parser)
    except etree.XMLSyntaxError as exc:
        return exc
