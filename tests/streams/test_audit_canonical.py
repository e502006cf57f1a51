"""The fast canonical JSON (orjson) is the standard library's text for what the audit chain hashes,
so records written before the switch verify as before, and new ones verify with older readers."""

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.audit import canonical
from streams.decision_record import canonical_json

# Any Unicode text but lone surrogates (which no decoded Avro string holds), ASCII keys as in every
# record the chain holds.
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
keys = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12)
fields = st.dictionaries(keys, st.one_of(texts, st.integers(min_value=-(2**63), max_value=2**63 - 1)), max_size=14)


@settings(max_examples=400, deadline=None)
@given(fields)
def test_same_text_as_the_standard_library_for_strings_and_integers(record):
    assert canonical_json(record) == canonical(record)


def test_every_control_character_and_non_ascii_plane_is_spelt_the_same():
    record = {"body": "".join(chr(c) for c in range(0x20)) + '"\\/\u2028\u00e9\U0001f600', "n": 3}
    assert canonical_json(record) == canonical(record)


def test_a_lone_surrogate_falls_back_to_the_standard_library():
    value = json.loads('{"name": "\\ud800x"}')
    assert canonical_json(value) == canonical(value)
