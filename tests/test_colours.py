import pytest

from hipviz.colours import hex_to_rgb, hex_to_unit_rgb


def test_colours_read_as_the_data_files_write_them():
    assert hex_to_rgb("#c0392b") == (192, 57, 43) == hex_to_rgb("C0392B")
    assert hex_to_unit_rgb("#ff0000") == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("bad", ["#fff", "red", "#12345g", "", None])
def test_a_bad_colour_is_named(bad):
    with pytest.raises(ValueError, match="#rrggbb"):
        hex_to_rgb(bad)
