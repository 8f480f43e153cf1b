"""Logging filters named in ``LOGGING`` (``base.py``)."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """On ``django.request``: a 4xx answer (a refused permission, a bad request) is logged as its one line.
    Django attaches the exception to a PermissionDenied's record, which prints a traceback of code that
    worked as meant; server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = record.exc_text = None
        return True
