"""Pages of a list without counting the whole list.

The stock changelist counts every matching row to number its pages; at a million tickets
that count alone takes longer than the page. `CappedPaginator` counts at most a few pages
beyond the one asked for (`SELECT COUNT(*) FROM (... LIMIT n)`), so the page links reach
that far and the total reads "more than N".
"""

from functools import cached_property

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator

PAGES_AHEAD = 10
MAX_PAGE = 10**9


class CappedPaginator(Paginator):
    """Counts up to `cap` rows, then stops; `capped` tells whether there are more."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        # Unordered: any `cap` matching rows will do, so the database may take the
        # cheapest way to them rather than walk the list's order.
        return self.object_list.order_by()[: self.cap].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.cap


class CappedPaginationMixin:
    """For a ModelAdmin: the paginator counts up to PAGES_AHEAD pages past the current one."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would count the whole list

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        try:
            page = max(int(request.GET.get(PAGE_VAR, 1)), 1)
        except ValueError:
            page = 1
        # A page number from the address may be any size; the count's LIMIT must fit in a
        # 64-bit integer. A page past the end is then an empty page, as for any list.
        page = min(page, MAX_PAGE)
        return CappedPaginator(
            queryset,
            per_page,
            cap=per_page * (page + PAGES_AHEAD) + 1,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )
