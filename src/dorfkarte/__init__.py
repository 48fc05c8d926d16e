"""dorfkarte: where everyday services (Daseinsvorsorge) are missing in rural Ortsteile."""

__version__ = "0.1.0"

#: Attribution lines that must be visible wherever the data is shown.
OSM_ATTRIBUTION = "Kartendaten: © OpenStreetMap-Mitwirkende, ODbL"
