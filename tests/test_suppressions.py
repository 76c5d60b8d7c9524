from dbox.store import suppressions


def channel_of(store, value):
    h = suppressions.Hasher(store)(value)
    return store.execute("SELECT channel, reason FROM suppressions WHERE value_hash = ?", (h,)).fetchone()


def test_a_second_channel_widens_the_suppression(store):
    suppressions.add(store, "phone", "+33612345678", "stop-reply", "sms")
    suppressions.add(store, "phone", "+33612345678", "stop-reply", "sms")
    assert channel_of(store, "+33612345678") == ("sms", "stop-reply")
    suppressions.add(store, "phone", "+33612345678", "unsubscribe", "email")
    assert channel_of(store, "+33612345678") == (None, "stop-reply")
    h = suppressions.Hasher(store)("+33612345678")
    assert suppressions.suppressed(store, [h]) == {h}


def test_erasure_makes_a_channel_suppression_global(store):
    suppressions.add(store, "email", "a@exemple.fr", "unsubscribe", "email")
    suppressions.add(store, "email", "a@exemple.fr", "erasure")
    assert channel_of(store, "a@exemple.fr") == (None, "erasure")
