"""Search settings written as key=value text (the benchmarks' --topdis-options)."""

import pytest

from gan_directions.discovery.overrides import parse_search_options
from gan_directions.errors import InvalidInputError


def test_values_take_their_settings_types():
    options = parse_search_options(
        "rtd_embedding=pixels, edit_floor=0.5,rtd_normalize=true,search_res=none,k=6,layers=2-5")
    assert options == {"rtd_embedding": "pixels", "edit_floor": 0.5, "rtd_normalize": True,
                       "search_res": None, "k": 6, "layers": "2-5"}
    assert isinstance(options["k"], int) and isinstance(options["edit_floor"], float)
    assert parse_search_options("") == {}


@pytest.mark.parametrize("text, message", [
    ("foo=1", "unknown search setting 'foo'"),
    ("k=six", "k takes int"),
    ("rtd_normalize=1", "rtd_normalize takes true or false"),
    ("steps", "expected key=value"),
])
def test_bad_text_is_one_clear_error(text, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_search_options(text)
