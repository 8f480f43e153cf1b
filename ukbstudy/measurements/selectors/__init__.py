"""Reads for measurements, one module per question asked of them:

- ``measurements``: the measurement rows themselves (the API's list, each value's preference order);
- ``frames``: one row per scan (participant and visit) with the columns a report asks for;
- ``datasets``: the liver fat paper's datasets A, B, C and all, and ``repeat`` (built on the QC selectors);
- ``exports``: the rows of a measurement export (``services.export_csv`` streams and records them).

Import from the module that defines a name; this package defines only the constant they share.
"""

# The reference field of dataset A and of a bare ``reference`` column: liver PDFF at the first imaging visit.
DEFAULT_REFERENCE_FIELD = "22402-2.0"
