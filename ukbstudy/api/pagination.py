"""Pages of the list endpoints: ``page_size`` is honoured up to MAX_PAGE_SIZE (a larger one gets that many;
zero, a negative or a non-number the default, REST_FRAMEWORK's PAGE_SIZE)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 1000


class StudyPagination(PageNumberPagination):
    """Numbered pages (``page``, ``page_size``), with a count: the default of every list."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class MeasurementPagination(CursorPagination):
    """Cursor pagination: stable pages over a table that grows while a client walks it."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
