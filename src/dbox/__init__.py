"""dbox: a community-organizing toolkit for campaign teams, from the terminal."""

__version__ = "0.1.0"
