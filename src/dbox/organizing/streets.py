"""Street addresses now live in :mod:`dbox.streets` (walk sheets and the electoral roll both read
them); this name stays so existing imports keep working."""

from dbox.streets import StreetAddress, parse_address, street_key, walking_order

__all__ = ["StreetAddress", "parse_address", "street_key", "walking_order"]
