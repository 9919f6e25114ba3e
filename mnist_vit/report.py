"""Markdown from results files: one generic table renderer, driven by a table spec.

A `Table` names its columns as (heading, cell) pairs, where a cell is a
`str.format` template over one row's fields (nested fields and format specs
as usual: `"{padding_fraction[padded]:.1%}"`), and a caption: a template over
the results file's own fields (`"{command}"`, `"{settings[steps]}"`). A
results file's rows are its `"results"` list unless the caller passes rows
it derived from the file. Imports no Keras.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Table:
    """A table spec.

    Attributes:
        columns: tuple of `(heading, cell template)` pairs.
        caption: str. A template over the results file's fields, printed
            under the table; "" for none.
    """

    columns: tuple
    caption: str = ""


def markdown(table, results, rows=None):
    """The Markdown of `table` for one results file (a dict).

    Args:
        table: a `Table`.
        results: dict. The results file; the caption's fields.
        rows: list of dicts, or None for `results["results"]`.

    Raises:
        ValueError: naming the template and the field a row or the file lacks.
    """
    rows = results["results"] if rows is None else rows
    headings = [heading for heading, _ in table.columns]
    lines = ["| " + " | ".join(headings) + " |", "|---" * len(headings) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fill(cell, row) for _, cell in table.columns) + " |")
    if table.caption:
        lines += ["", fill(table.caption, results)]
    return "\n".join(lines)


def fill(template, fields):
    """`template.format(**fields)`, with a ValueError naming the template when a field is missing."""
    try:
        return template.format(**fields)
    except (KeyError, IndexError, TypeError) as error:
        raise ValueError(f"template {template!r} needs a field the results lack ({error})") from None


def replace_block(text, name, block):
    """`text` with the part between `<!-- name:start -->` and `<!-- name:end -->` replaced by `block`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"lacks the {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"
