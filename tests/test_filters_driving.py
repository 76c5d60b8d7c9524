"""PostgreSQL's driving form of a filter (store.filters.Compiled.driving_where): counts and exports
probe contacts by key from the ids of the top-level "and"'s tags/consents/fields; every other use
keeps the IN form (docs/filters.md). Same rows as the IN form, on the sample."""

import pytest

pytestmark = pytest.mark.engines

from dbox import segments
from dbox.store.contacts import count_contacts, iter_contacts
from test_segments_support import sample, sample_template  # noqa: F401

DRIVEN = ["tag:militant and consent:sms and commune.population < 3500",
          "consent:email and departement = 38 or tag:militant and not consent:sms",
          "tag:militant and consent:sms and not commune = Grenoble"]


@pytest.mark.parametrize("expression", DRIVEN)
def test_the_driving_form_selects_the_same_contacts(sample, engine, expression):
    selection = segments.select(sample, expression)
    ids = [r[0] for r in iter_contacts(sample, ["id"], selection.where, selection.params)]
    assert segments.count(sample, selection) == count_contacts(sample, selection.where, selection.params) == len(ids)
    assert [r[0] for r in segments.rows(sample, selection, ["id"])] == ids
    if engine == "postgresql" and " or " not in expression:
        assert "c.id = ANY(ARRAY(SELECT" in selection.driving_where
        assert "c.id = ANY(ARRAY(" not in selection.where
    else:
        assert selection.driving_where is None


@pytest.mark.parametrize("expression", ["tag:militant", "tag:militant and consent:sms",
                                        "not (tag:militant and commune.population < 3500)",
                                        "tag:militant and canton = Meylan"])
def test_no_driving_form_where_it_would_not_pay_or_not_be_safe(sample, expression):
    # alone (a large tag counts faster with IN), under a "not", or driven by an indexed condition
    assert segments.select(sample, expression).driving_where is None


@pytest.mark.engine("postgresql")
def test_an_or_of_large_id_sets_is_hashed_not_searched_row_by_row(sample):
    # dbox's sessions get work_mem >= 64 MB: the server's 4 MB default made each contact search the
    # ids of "c.id IN (SELECT ...)" under an "or" one by one once they no longer fit a hash
    from dbox.store.pg import WORK_MEM_MB

    mb = sample.execute("SELECT pg_size_bytes(current_setting('work_mem')) / 1048576").fetchone()[0]
    assert mb >= WORK_MEM_MB
