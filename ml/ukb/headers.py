"""Column headers of a UK Biobank basket in the styles labs actually have, detected from the header row.

- ``ukbconv CSV``: ``eid``, ``22402-2.0`` (field-instance.array); also the Research Analysis
  Platform's table exporter with ``header_style=UKB-FORMAT``;
- ``ukbconv R``: ``f.eid``, ``f.22402.2.0``, ``NA`` for missing values;
- ``Research Analysis Platform``: the table exporter's ``FIELD-NAME`` headers, ``participant.eid``,
  ``participant.p31``, ``participant.p22402_i2``, arrays ``_a0`` (also without the ``participant.``
  prefix); a field that is not instanced has no ``_i`` part and is read as instance 0.

Each comes comma- or tab-separated (ukbconv's R output and the exporter's TSV are tab-separated); the
delimiter is detected with the names. ``NA`` is read as a missing value in every style. Every style maps
onto the same ``Column(field, instance, array)``, so one basket in the three styles imports to the same
rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .fields import COLUMN_PATTERN, Column

_R_COLUMN = re.compile(r"^f\.(?P<field>\d+)\.(?P<instance>\d+)\.(?P<array>\d+)$")
_RAP_COLUMN = re.compile(r"^(?:participant\.)?p(?P<field>\d+)(?:_i(?P<instance>\d+))?(?:_a(?P<array>\d+))?$")


@dataclass(frozen=True)
class HeaderStyle:
    name: str
    pattern: re.Pattern  # groups field, instance (optional: 0), array (optional: 0)
    eid: tuple[str, ...]  # the participant id column's accepted names
    delimiter: str
    example: str
    missing: frozenset[str] = frozenset({"NA"})  # cell texts that mean "no value", besides the empty cell

    @property
    def description(self) -> str:
        """The style as the import log names it: 'Research Analysis Platform, tab-separated'."""
        return f"{self.name}, {'tab' if self.delimiter == chr(9) else 'comma'}-separated"

    def parse(self, name: str) -> Column | None:
        """The field, instance and array of a column name; None when the name is not of this style."""
        match = self.pattern.match(name.strip())
        if not match:
            return None
        return Column(int(match["field"]), int(match["instance"] or 0), int(match["array"] or 0))


UKBCONV_CSV = HeaderStyle("ukbconv", COLUMN_PATTERN, ("eid",), ",", "22402-2.0")
UKBCONV_R = HeaderStyle("ukbconv R", _R_COLUMN, ("f.eid",), "\t", "f.22402.2.0")
RAP = HeaderStyle("Research Analysis Platform", _RAP_COLUMN, ("participant.eid", "eid"), ",",
                  "participant.p22402_i2")


def detect_style(first_line: str) -> HeaderStyle:
    """The style of a basket from its header line. Tab-separated when the line has tabs and no commas.
    ``f.eid`` names ukbconv's R output; ``participant.`` names or ``p<field>`` columns the Research
    Analysis Platform's; anything else is read as ukbconv's (whose problems the parser then reports
    column by column)."""
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    names = [name.strip().strip('"') for name in first_line.split(delimiter)]
    if "f.eid" in names:
        style = UKBCONV_R
    elif any(name.startswith("participant.") or _RAP_COLUMN.match(name) for name in names):
        style = RAP
    else:
        style = UKBCONV_CSV
    return replace(style, delimiter=delimiter)


def column_name(style: HeaderStyle, column: Column, *, instanced: bool = True, arrayed: bool = False) -> str:
    """A field column's name in ``style`` (the writer's side of ``HeaderStyle.parse``). The Research
    Analysis Platform leaves out the instance of fields that have none and the array index of fields
    that are not arrays (the schema's ``instanced`` and ``arrayed`` flags)."""
    if style.name == UKBCONV_R.name:
        return f"f.{column.field}.{column.instance}.{column.array}"
    if style.name == RAP.name:
        return (f"participant.p{column.field}" + (f"_i{column.instance}" if instanced else "")
                + (f"_a{column.array}" if arrayed else ""))
    return column.text
