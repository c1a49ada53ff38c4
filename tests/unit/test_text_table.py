"""Terminal tables: CJK characters take two columns, so Chinese headings line up."""

from workers.text_table import aligned, width


def test_cjk_cells_are_padded_by_display_width():
    lines = aligned([["镇街", "n"], ["新塘街道", "12"], ["abc", "3"]])
    assert lines == ["镇街      n", "新塘街道  12", "abc       3"]
    assert [width(line[: line.index(" ")]) for line in lines] == [4, 8, 3]
