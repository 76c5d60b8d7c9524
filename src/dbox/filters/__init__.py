"""dbox's filter language: ``canton = "Grenoble-1" and tag:militant and reachable:sms``.

``parse`` turns text into a syntax tree (``nodes``), ``to_text`` turns a tree back into its
canonical text, and ``dbox.store.filters.compile_filter`` turns a tree into a parameterized SQL
``WHERE`` clause. docs/filters.md is the reference.
"""

from dbox.filters.errors import FilterSyntaxError, Source
from dbox.filters.nodes import to_text, tree_lines
from dbox.filters.parser import parse

__all__ = ["FilterSyntaxError", "Source", "parse", "to_text", "tree_lines"]
