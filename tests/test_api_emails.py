"""`email` in needs-form and gone-quiet answers is normalised (trimmed, case-folded), as the
ledger's `contact_email` is (CONTRACT §2, §5): automation can match and send to it as it is."""

from __future__ import annotations

from test_api_support import client_for, make_app

RAW = "  Ravi.Osuilleabhain@Gmail.COM \t"
CLEAN = "ravi.osuilleabhain@gmail.com"


def test_emails_in_contact_lists_are_normalised_like_contact_email(mirror_factory):
    settings, _, _ = mirror_factory(
        {
            "contacts": [
                {"contact_id": "r1", "email": RAW, "first_name": "Ravi"},
                {"contact_id": "r2", "email": "   ", "first_name": "Blank"},
            ],
            "clinical_sessions": [
                {"session_id": "s1", "contact_id": "r1", "started_at": "2024-01-01T00:00:00Z"},
                {"session_id": "s2", "contact_id": "r2", "started_at": "2024-01-01T00:00:00Z"},
            ],
        }
    )
    test_client, api = client_for(make_app(settings))
    with test_client:
        contact_email = api.timeline("r1").items[0].contact_email
        assert contact_email == CLEAN
        for page in (
            api.needs_form(14, as_of="2024-06-01T00:00:00Z"),
            api.gone_quiet(30, as_of="2024-06-01T00:00:00Z"),
        ):
            emails = {row.contact_id: row.email for row in page.items}
            assert emails == {"r1": CLEAN, "r2": None}  # blank is null, as everywhere
        first_names = [r.first_name for r in api.needs_form(as_of="2024-06-01").items]
        assert first_names == ["Ravi", "Blank"]  # other columns as stored


def test_emails_are_case_folded_by_the_one_table(mirror_factory):
    """The one email rule (CONTRACT §2): trimmed, each character replaced by its Unicode
    simple case folding, nothing else -- not any engine's own lower-casing (final sigma,
    dotted I, sharp s, Kelvin sign)."""
    hard = {
        "g1": ("\tΟΔΟΣ@EXAMPLE.GR\r\n", "οδοσ@example.gr"),
        "g2": ("İSTANBUL@Example.Com", "İstanbul@example.com"),
        "g3": ("STRAẞE@EXAMPLE.DE", "straße@example.de"),
        "g4": ("\u212aELVIN@EXAMPLE.ORG", "kelvin@example.org"),
        "g5": ("SØREN.25@EXAMPLE.DK", "søren.25@example.dk"),
    }
    settings, _, _ = mirror_factory(
        {
            "contacts": [
                {"contact_id": cid, "email": raw, "first_name": cid}
                for cid, (raw, _) in hard.items()
            ]
        }
    )
    test_client, api = client_for(make_app(settings))
    with test_client:
        emails = {r.contact_id: r.email for r in api.needs_form(as_of="2024-06-01").items}
    assert emails == {cid: clean for cid, (_, clean) in hard.items()}
