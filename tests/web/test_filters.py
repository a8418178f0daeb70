"""The template helpers shared by the shop and the portals."""
from __future__ import annotations

import pytest

from web.filters import page_links


@pytest.mark.parametrize("page, pages, links", [
    (1, 1, [1]),
    (1, 5, [1, 2, 3, 4, 5]),
    (1, 792, [1, 2, 3, None, 791, 792]),
    (7, 792, [1, 2, None, 5, 6, 7, 8, 9, None, 791, 792]),
    (5, 10, [1, 2, 3, 4, 5, 6, 7, None, 9, 10]),   # a gap of one page is a gap all the same
    (792, 792, [1, 2, None, 790, 791, 792]),
])
def test_a_pager_shows_the_ends_and_the_neighbours_of_the_page(page, pages, links):
    assert page_links(page, pages) == links


def test_a_pager_of_a_large_catalog_stays_short():
    assert max(len(page_links(page, 100_000)) for page in range(1, 100_001, 997)) <= 11
