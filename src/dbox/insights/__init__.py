"""Insights: statistics (``dbox stats``), a shareable report (``dbox report``) and a browser over
the store (``dbox browse``).

- :mod:`dbox.insights.stats` computes the numbers (SQL in ``dbox.store.insights``);
- :mod:`dbox.insights.report` turns them into one self-contained HTML page (plotly, inlined);
- :mod:`dbox.insights.printing` draws the same charts as PNG or PDF (matplotlib) for print;
- :mod:`dbox.insights.browse` serves the store read-only with Datasette.

plotly, matplotlib and Datasette are imported inside the functions that use them, so ``dbox
--help`` stays fast. The rules are in docs/insights.md.
"""
