"""Shared fixtures for the segment and filter tests: a small geography, a store filled through the
real import pipeline, and a plain-Python evaluation of filter trees to check the SQL against.

(It holds no tests itself; the other test_filters_* / test_segments* modules import from it.)
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dbox.store import geo as store_geo

# A slice of the reference table, in its own format (see scripts/build_geo.py): Grenoble spans
# four cantons and two circonscriptions; Peaugres has one canton; "Saint-Denis" is two communes,
# and "Saint-Denis-1" two cantons, in 93 and 974; Lyon has arrondissements.
GEO_ROWS = [
    ("38185", "Grenoble", "38", "158000", "38000 38100",
     "3806:Grenoble-1|3807:Grenoble-2|3808:Grenoble-3|3809:Grenoble-4", "38-01|38-03"),
    ("38516", "La Tronche", "38", "6600", "38700", "3815:Meylan", "38-01"),
    ("38442", "Saint-Pierre-de-Chartreuse", "38", "1000", "38380", "3804:Chartreuse-Guiers", "38-04"),
    ("38563", "Voiron", "38", "20000", "38500", "3821:Voiron", "38-09"),
    ("38269", "La Mure", "38", "5000", "38350", "3814:Matheysine-Trièves", "38-04"),
    ("38382", "Saint-Égrève", "38", "16000", "38120", "3806:Grenoble-1", "38-01"),
    ("07010", "Annonay", "07", "16000", "07100", "0701:Annonay-1|0702:Annonay-2", "07-02"),
    ("07172", "Peaugres", "07", "2200", "07340", "0702:Annonay-2", "07-02"),
    ("07019", "Aubenas", "07", "12000", "07200", "0703:Aubenas-1|0704:Aubenas-2", "07-03"),
    ("73065", "Chambéry", "73", "59000", "73000", "7305:Chambéry-1|7306:Chambéry-2", "73-01|73-04"),
    ("69123", "Lyon", "69", "520000", "", "", "69-01|69-02|69-03"),
    ("69381", "Lyon 1er Arrondissement", "69", "30000", "69001", "", "69-01"),
    ("69383", "Lyon 3e Arrondissement", "69", "100000", "69003", "", "69-03"),
    ("97209", "Fort-de-France", "972", "76000", "97200", "97206:Fort-de-France-1|97207:Fort-de-France-2",
     "972-03"),
    ("97411", "Saint-Denis", "974", "150000", "97400", "97409:Saint-Denis-1|97410:Saint-Denis-2", "974-01"),
    ("93066", "Saint-Denis", "93", "113000", "93200 93210", "9318:Saint-Denis-1", "93-02"),
    ("01001", "L'Abergement-Clémenciat", "01", "", "01400", "0110:Châtillon-sur-Chalaronne", "01-04"),
]


def geo_reference_rows():
    for insee, name, dep, pop, postal, cantons, circos in GEO_ROWS:
        yield {"insee": insee, "name": name, "departement": dep, "population": pop, "lat": "", "lon": "",
               "postal_codes": postal, "cantons": cantons, "circonscriptions": circos}


@pytest.fixture
def geo(monkeypatch):
    """New stores get the small reference above (whatever the shipped table holds)."""
    monkeypatch.setattr(store_geo, "_reference_rows", geo_reference_rows)
