"""Terminal tables: CJK characters take two columns, so Chinese headings line up."""

import pytest

from workers.text_table import aligned, width


def test_cjk_cells_are_padded_by_display_width():
    lines = aligned([["镇街", "n"], ["新塘街道", "12"], ["abc", "3"]])
    assert lines == ["镇街      n", "新塘街道  12", "abc       3"]
    assert [width(line[: line.index(" ")]) for line in lines] == [4, 8, 3]


@pytest.mark.parametrize(("cell", "shown"), [
    ("门前\x1b[2J噪音", "门前 [2J噪音"),              # an escape sequence loses its lead-in
    ("工单\u202e1234\u202c号", "工单1234号"),          # a right-to-left override is removed
    ("a\x9bb\tc\r", "a b c "),                          # C1 CSI, tab and carriage return
])
def test_cells_cannot_steer_the_terminal(cell: str, shown: str):
    assert aligned([[cell]]) == [shown.rstrip()]
