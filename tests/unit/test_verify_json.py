"""JSON in one normal form for replayer verify against PostgreSQL's jsonb."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replayer.postgres_types import json_equivalent
from replayer.verify_compare import json_normal_form, normal_json


@pytest.mark.parametrize(("left", "right"), [
    ('{"b": 1, "a": 2}', '{"a":2,"b":1}'),  # key order and spacing
    ('{ "a" : [ 1 , 2 ] }\n', '{"a": [1, 2]}'),
    ('{"a": 1, "a": {"x": true}}', '{"a": {"x": true}}'),  # the last duplicate counts
    ('[1.0E2, 100, 100.000, 1e2]', '[100, 100, 100, 100]'),  # number spellings
    ('[-0.0, 0, 0E+7]', '[0, 0, 0]'),
    ('"\\u00e9\\ud83d\\udcb3"', '"é💳"'),  # escapes
    ('123456789012345678901234567890.5', '1.234567890123456789012345678905E+29'),
])
def test_equivalent_documents_have_one_text(left: str, right: str) -> None:
    assert json_normal_form(left) == json_normal_form(right)
    assert json_equivalent(left, right)


@pytest.mark.parametrize(("left", "right"), [
    ('{"n": 0.1000000000000000000001}', '{"n": 0.1}'),  # a float would make these equal
    ('{"n": 12345678901234567890123}', '{"n": 12345678901234567890124}'),
    ("[1, 2]", "[2, 1]"),  # arrays keep their order
    ('{"a": true}', '{"a": 1}'),
    ('{"a": null}', "{}"),
    ('"1"', "1"),
    ('{"a": [1]}', '{"a": 1}'),
])
def test_different_documents_stay_different(left: str, right: str) -> None:
    assert json_normal_form(left) != json_normal_form(right)
    assert not json_equivalent(left, right)


def test_the_normal_form_is_json_and_ascii() -> None:
    text = json_normal_form('{"é": [1.50, "💳", null, false, {"": -2.0E-3}]}')
    assert text == '{"\\u00e9":[1.5,"\\ud83d\\udcb3",null,false,{"":-0.002}]}'
    assert json_normal_form(text) == text


def test_a_column_value_is_normalized_unless_it_is_not_json() -> None:
    assert normal_json('{"b":1, "a":2}') == '{"a":2,"b":1}'
    assert normal_json(b'{"b":1, "a":2}') == '{"a":2,"b":1}'
    assert normal_json(None) is None
    assert normal_json("{not json") == "{not json"  # it then differs from any jsonb value


_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(_DOCUMENTS)
def test_spacing_and_key_order_never_matter(document: object) -> None:
    compact = json.dumps(document, separators=(",", ":"))
    spaced = json.dumps(document, indent=3, sort_keys=True, ensure_ascii=False)
    assert json_normal_form(compact) == json_normal_form(spaced)
