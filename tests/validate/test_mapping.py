"""builder/validate/mapping.py: each source's rows mapped to ledger fields (event type,
name, source, payload, timestamp) and deduplicated, checked against the hand-written
answer (`EXPECTED_FIELDS`)."""

from __future__ import annotations

from contact_events.builder.validate.compare import _expected_dict
from contact_events.builder.validate.reference import _row
from contact_events.builder.validate.timestamps import mirror_text

from .cases import EXPECTED_FIELDS


def test_reference_fields_match_the_hand_written_answer(reference):
    outcomes, _, _ = reference
    for key, fields in EXPECTED_FIELDS.items():
        spec, outcome = outcomes[key]
        row = _row(outcome)
        assert row is not None, key
        got = _expected_dict(spec, key[1], row)
        got["event_timestamp"] = mirror_text(row[4])
        assert {k: got[k] for k in fields} == fields, key
