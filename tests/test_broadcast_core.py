"""The core tells a post (a broadcast campaign) from the registry's ``Channel.broadcast`` flag, or
from the ledger when the plugin is not loaded, never from the channel's name (issue 13): a
third-party broadcast channel is a post everywhere the social ones are, and a channel named like a
social one that messages contacts is not."""

import pytest

from dbox.channels import hookimpl, plugins
from dbox.channels.base import Channel
from dbox.errors import InputError
from dbox.insights import stats
from dbox.sending import service
from dbox.store import insights as sql
from dbox.store import ledger

pytestmark = pytest.mark.engines


class Radio(Channel):
    id = "radio"                      # no "social:" in its name
    title = "Community radio"
    broadcast = True


class Lookalike(Channel):
    id = "social:pigeon"              # named like a social channel, but it messages contacts
    title = "Pigeon"
    consent_channel = "sms"
    address_kind = "mobile"


class _Plugin:
    @hookimpl
    def register_channels(self, register):
        register(Radio())
        register(Lookalike())


@pytest.fixture
def radio():
    pm = plugins.plugin_manager()
    pm.register(_Plugin(), name="broadcast-core-test")
    yield
    if pm.has_plugin("broadcast-core-test"):
        pm.unregister(name="broadcast-core-test")


def _campaign(store, uid, channel, *, account=None):
    cid, _counts = ledger.create_campaign(
        store, uid=uid, channel=channel, reach=ledger.BROADCAST if account else ledger.Reach("sms", "mobile"),
        fingerprint=uid, expression="", segment=None, where="FALSE", params=[], template={"body": "On air"},
        status="scheduled", due_at="2100-01-01T00:00:00Z", ignore_window=True, settings={}, created_by="t",
        broadcast=account)
    return ledger.get_campaign(store, cid)


def test_a_third_party_broadcast_is_a_post_in_the_core_and_a_lookalike_name_is_not(store, radio, cli):
    post = _campaign(store, "r1", "radio", account="studio-1")
    message = _campaign(store, "p1", "social:pigeon")
    assert service.is_broadcast(store, post) and not service.is_broadcast(store, message)

    # control: a post goes through `posts`, a message campaign through `campaigns`
    with pytest.raises(InputError, match="is a post"):
        service.control(store, post.id, "pause", posts=False)
    with pytest.raises(InputError, match="is not a post"):
        service.control(store, message.id, "pause", posts=True)
    assert service.control(store, post.id, "pause", posts=True)[0].control == "paused"

    # send --resume refuses a post whatever its channel is called
    refused = cli("send", "--resume", post.id, "--yes")
    assert refused.exit_code != 0 and "is a post" in refused.output

    # insights: the post is left out of message campaigns, counted among posts
    assert sql.message_channels(store) == ["social:pigeon"]
    assert [c["id"] for c in stats.campaigns(store, "1=1", [], None, selection_given=False)] == [message.id]
    assert [tuple(r) for r in sql.posts_published(store, None)] == [("radio", 0, 1)]

    # campaigns show says where a post goes out from, not "audience: everyone"
    shown = cli("campaigns", "show", post.id).output
    assert "posted from account studio-1" in shown and "audience" not in shown
    assert "audience: everyone" in cli("campaigns", "show", message.id).output

    # the plugin gone (uninstalled), the ledger still says which is a post
    plugins.plugin_manager().unregister(name="broadcast-core-test")
    assert service.is_broadcast(store, post) and not service.is_broadcast(store, message)
    with pytest.raises(InputError, match="is a post"):
        service.control(store, post.id, "cancel", posts=False)
