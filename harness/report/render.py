"""A small document model rendered twice: Markdown (images linked) and one self-contained HTML file
(images embedded as base64 data URIs, styles inline, no external asset)."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    path: Path
    caption: str


@dataclass(frozen=True)
class Notice:
    """A boxed message: kind 'warning' for measurement problems, 'notice' for an incomplete run."""

    title: str
    items: list[str]
    kind: str = "warning"


Block = Heading | Paragraph | Bullets | Table | Image | Notice


def to_markdown(blocks: list[Block], base: Path) -> str:
    out: list[str] = []
    for block in blocks:
        match block:
            case Heading(text, level):
                out.append(f"{'#' * level} {text}")
            case Paragraph(text):
                out.append(text)
            case Bullets(items):
                out.append("\n".join(f"- {item}" for item in items))
            case Table(columns, rows):
                lines = [_md_row(columns), "|" + "|".join("---" for _ in columns) + "|"]
                lines += [_md_row(row) for row in rows]
                out.append("\n".join(lines))
            case Image(path, caption):
                out.append(f"![{caption}]({path.relative_to(base).as_posix()})\n\n*{caption}*")
            case Notice(title, items, _):
                out.append("\n".join([f"> **{title}**", ">", *(f"> - {item}" for item in items)]))
    return "\n\n".join(out) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f;line-height:1.45}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}th{background:#f2f2f2}
td:first-child,th:first-child,td:nth-child(2),td.text{text-align:left}
.warning{border-left:.3rem solid #c62828;background:#fdecea;padding:.5rem 1rem;margin:1rem 0}
.notice{border-left:.3rem solid #f9a825;background:#fff8e1;padding:.5rem 1rem;margin:1rem 0}
figure{margin:1.5rem 0}img{max-width:100%}figcaption{font-style:italic;color:#555}
"""


def to_html(blocks: list[Block], title: str) -> str:
    body: list[str] = []
    for block in blocks:
        match block:
            case Heading(text, level):
                body.append(f"<h{level}>{_inline(text)}</h{level}>")
            case Paragraph(text):
                body.append(f"<p>{_inline(text)}</p>")
            case Bullets(items):
                body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            case Table(columns, rows):
                head = "".join(f"<th>{_inline(c)}</th>" for c in columns)
                cells = "".join(
                    "<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
            case Image(path, caption):
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
                    f"<figcaption>{_inline(caption)}</figcaption></figure>"
                )
            case Notice(title_text, items, kind):
                listed = "".join(f"<li>{_inline(i)}</li>" for i in items)
                heading = f"<strong>{_inline(title_text)}</strong>"
                body.append(f'<div class="{kind}">{heading}<ul>{listed}</ul></div>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _cell(text: str) -> str:
    """Numbers align right; prose (a long cell) reads left-aligned."""
    return f'<td class="text">{_inline(text)}</td>' if len(text) > 40 else f"<td>{_inline(text)}</td>"


def _inline(text: str) -> str:
    """Escape, then honour the two bits of Markdown the report uses: **bold** and `code`."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)
