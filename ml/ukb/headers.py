"""Column headers of a UK Biobank basket in the styles labs actually have, detected from the header row.

- ``ukbconv CSV``: ``eid``, ``22402-2.0`` (field-instance.array), comma-separated;
- ``ukbconv R``: ``f.eid``, ``f.22402.2.0``, tab-separated, ``NA`` for missing values;
- ``Research Analysis Platform``: the table exporter's ``participant.eid``, ``participant.p31``,
  ``participant.p22402_i2``, arrays ``_a0`` (also without the ``participant.`` prefix); a field that is
  not instanced has no ``_i`` part and is read as instance 0.

Every style maps onto the same ``Column(field, instance, array)``, so one basket in the three styles
imports to the same rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fields import COLUMN_PATTERN, Column

_R_COLUMN = re.compile(r"^f\.(?P<field>\d+)\.(?P<instance>\d+)\.(?P<array>\d+)$")
_RAP_COLUMN = re.compile(r"^(?:participant\.)?p(?P<field>\d+)(?:_i(?P<instance>\d+))?(?:_a(?P<array>\d+))?$")


@dataclass(frozen=True)
class HeaderStyle:
    name: str
    pattern: re.Pattern  # groups field, instance (optional: 0), array (optional: 0)
    eid: tuple[str, ...]  # the participant id column's accepted names
    delimiter: str
    missing: frozenset[str]  # cell texts that mean "no value", besides the empty cell
    example: str

    def parse(self, name: str) -> Column | None:
        """The field, instance and array of a column name; None when the name is not of this style."""
        match = self.pattern.match(name.strip())
        if not match:
            return None
        return Column(int(match["field"]), int(match["instance"] or 0), int(match["array"] or 0))


UKBCONV_CSV = HeaderStyle("ukbconv CSV", COLUMN_PATTERN, ("eid",), ",", frozenset(), "22402-2.0")
UKBCONV_R = HeaderStyle("ukbconv R (tab-separated)", _R_COLUMN, ("f.eid",), "\t", frozenset({"NA"}), "f.22402.2.0")
RAP = HeaderStyle("Research Analysis Platform", _RAP_COLUMN, ("participant.eid", "eid"), ",", frozenset(),
                  "participant.p22402_i2")
STYLES = (UKBCONV_R, RAP, UKBCONV_CSV)


def detect_style(first_line: str) -> HeaderStyle:
    """The style of a basket from its header line: a tab-separated header with ``f.eid`` is ukbconv's R
    output; ``participant.`` names or ``p<field>`` columns are the Research Analysis Platform's; else
    ukbconv's CSV (whose problems the parser then reports column by column)."""
    if "\t" in first_line and "," not in first_line:
        return UKBCONV_R
    names = [name.strip().strip('"') for name in first_line.split(",")]
    if any(name.startswith("participant.") or _RAP_COLUMN.match(name) for name in names):
        return RAP
    return UKBCONV_CSV


def column_name(style: HeaderStyle, column: Column, *, instanced: bool = True, arrayed: bool = False) -> str:
    """A field column's name in ``style`` (the writer's side of ``HeaderStyle.parse``). The Research
    Analysis Platform leaves out the instance of fields that have none and the array index of fields
    that are not arrays (the schema's ``instanced`` and ``arrayed`` flags)."""
    if style is UKBCONV_R:
        return f"f.{column.field}.{column.instance}.{column.array}"
    if style is RAP:
        return (f"participant.p{column.field}" + (f"_i{column.instance}" if instanced else "")
                + (f"_a{column.array}" if arrayed else ""))
    return column.field_id
