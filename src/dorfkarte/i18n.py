"""User-facing labels of the app and maps: German first, English optional.

One table keeps every wording in one place, so planners' terms (Ortsteil, Lücke, knapp)
stay consistent between the map, the tables and the exports.
"""

from __future__ import annotations

from dorfkarte.region import MODE_LABELS, MODE_LABELS_EN, Category

LANGS: tuple[str, ...] = ("de", "en")
LANG_LABELS: dict[str, str] = {"de": "Deutsch", "en": "English"}

_T: dict[str, tuple[str, str]] = {
    # page
    "app_title": ("dorfkarte: Daseinsvorsorge in {region}",
                  "dorfkarte: basic services in {region}"),
    "tab_map": ("Karte", "Map"),
    "tab_profile": ("Ortsteil-Profil", "Profile"),
    "tab_overview": ("Übersicht", "Overview"),
    "tab_scenario": ("Szenarien", "Scenarios"),
    "tab_listings": ("Lokale Angebote", "Local listings"),
    "tab_export": ("Export", "Export"),
    "tab_status": ("Datenstand", "Data status"),
    # sidebar
    "region": ("Region", "Region"),
    "language": ("Sprache", "Language"),
    "category": ("Kategorie (Karte)", "Category (map)"),
    "point_categories": ("Einrichtungen auf der Karte", "Services shown on the map"),
    "mode": ("Verkehrsmittel", "Mode"),
    # Bus & Bahn (Fahrplan), dorfkarte.pt
    "pt_day": ("Fahrtag (Bus & Bahn)", "Service day (bus & rail)"),
    "pt_window": ("Abfahrtsfenster", "Departure window"),
    "pt_valid": ("{caption}: gültig {start} bis {end}; Quelle: {source}",
                 "{caption}: valid {start} to {end}; source: {source}"),
    "pt_no_service": ("Am {day} fährt nach diesem Fahrplan nichts; gezeigt: {default}.",
                      "No service on {day} in this timetable; shown: {default}."),
    "pt_next": ("Nächste Verbindungen (Bus & Bahn, {caption}, {day})",
                "Next connections (bus & rail, {caption}, {day})"),
    "pt_to": ("Nach {place}", "To {place}"),
    "pt_back": ("Zurück von {place}", "Back from {place}"),
    "pt_none": ("keine Verbindung an diesem Tag", "no connection that day"),
    "pt_depart": ("Ab", "Depart"),
    "pt_arrive": ("An", "Arrive"),
    "pt_minutes": ("Minuten", "Minutes"),
    "pt_transfers": ("Umstiege", "Transfers"),
    "pt_lines": ("Linien", "Lines"),
    "indicator": ("Kennzahl", "Indicator"),
    "threshold": ("Schwelle", "Threshold"),
    "threshold_help": ("Ab wann gilt eine Einrichtung als erreichbar? Quelle: {source}",
                       "When does a service count as reachable? Source: {source}"),
    "more_thresholds": ("Weitere Schwellen ({mode})", "More thresholds ({mode})"),
    "reset_thresholds": ("Schwellen zurücksetzen", "Reset thresholds"),
    "basemap": ("Hintergrundkarte", "Base map"),
    "basemap_osm": ("OSM-Kacheln (online), sonst eigene Grundkarte",
                    "OSM tiles (online), else own base map"),
    "basemap_own": ("Eigene Grundkarte (offline)", "Own base map (offline)"),
    "basemap_none": ("Keine", "None"),
    "minutes": ("min", "min"),
    "metres": ("m", "m"),
    # indicators
    "ind_share_within": ("Anteil Einwohner innerhalb der Schwelle",
                         "Share of residents within threshold"),
    "ind_median": ("Mittlere Reisezeit (Median)", "Median travel time"),
    "ind_p90": ("Reisezeit der 10 % am schlechtesten Angebundenen (P90)",
                "Travel time of the worst-off 10 % (P90)"),
    "ind_gap_class": ("Versorgungsklasse (ok / knapp / Lücke)",
                      "Coverage class (ok / tight / gap)"),
    "ind_residents_outside": ("Einwohner außerhalb der Schwelle", "Residents beyond threshold"),
    "ind_median_transit": ("Mittlere Entfernung zur Haltestelle (Median)",
                           "Median distance to a served stop"),
    "ind_p90_transit": ("Entfernung der 10 % am weitesten Entfernten (P90)",
                        "Distance of the farthest 10 % (P90)"),
    # gap classes
    "gap_ok": ("ok", "ok"),
    "gap_knapp": ("knapp", "tight"),
    "gap_Lücke": ("Lücke", "gap"),
    "gap_keine Daten": ("keine Daten", "no data"),
    "gap_nur lokale Angebote": ("unbekannt – nur lokale Angebote erfasst",
                                "unknown – only local listings recorded"),
    "flag_example": ("enthält Beispieldaten", "contains example data"),
    "flag_local_only": ("nur lokale Angebote, OSM fehlt", "local listings only, no OSM data"),
    "legend_local_only": ("Nur lokale Angebote, OSM fehlt: Ortsteile ohne erreichbares Angebot "
                          "sind unbekannt, keine Lücke",
                          "Local listings only, no OSM data: units no listing serves are "
                          "unknown, not gaps"),
    "legend_example": ("Enthält Beispieldaten (keine echten Angebote)",
                       "Contains example data (not real services)"),
    "no_data": ("keine Angabe", "no data"),
    # map
    "layer_units": ("Ortsteile (Kennzahl)", "Districts (indicator)"),
    "layer_labels": ("Ortsteil-Namen", "District names"),
    "layer_municipalities": ("Gemeindegrenzen", "Municipal boundaries"),
    "layer_gaps": ("Lücken (schraffiert)", "Gaps (hatched)"),
    "layer_stops": ("Haltestellen (Größe = Bedienung)", "Stops (size = service level)"),
    "layer_highlight": ("Ausgewählter Ortsteil", "Selected district"),
    "layer_base": ("Eigene Grundkarte", "Own base map"),
    "layer_tiles": ("OpenStreetMap-Kacheln", "OpenStreetMap tiles"),
    "legend_title": ("Legende", "Legend"),
    "legend_points": ("Einrichtungen", "Services"),
    "legend_osm": ("aus OpenStreetMap", "from OpenStreetMap"),
    "legend_listing": ("lokaler Eintrag", "local listing"),
    "legend_scenario": ("Szenario (geplant)", "scenario (planned)"),
    "legend_stops": ("Haltestellen: Größe = Bedienung (Ankünfte + Abfahrten im Fahrplan)",
                     "Stops: size = service (arrivals + departures in the timetable)"),
    "legend_stop_weak": ("kaum bedient (Bedienung < {w:g})", "hardly served (service < {w:g})"),
    "legend_gap": ("Lücke: dicker roter Rand, schraffiert", "gap: thick red outline, hatched"),
    "legend_knapp": ("knapp: oranger Rand", "tight: orange outline"),
    "legend_approx": ("Ortsteilflächen sind Näherungen (gestrichelt), keine amtlichen Grenzen",
                      "District areas are approximations (dashed), not official boundaries"),
    "legend_no_result": ("Noch keine Erreichbarkeitsanalyse: Ortsteile ohne Einfärbung",
                         "No accessibility analysis yet: districts not coloured"),
    "legend_straight": ("Luftlinie × Umwegfaktor (kein Straßennetz im Datenstand)",
                        "straight line × detour factor (no street network in the data)"),
    "approx_area": ("Fläche genähert (Voronoi um den Ortsmittelpunkt)",
                    "approximate area (Voronoi around the village centre)"),
    "population": ("Einwohner", "Residents"),
    "municipality": ("Gemeinde", "Municipality"),
    "kind_ortsteil": ("Ortsteil", "Village"),
    "kind_kernort": ("Kernort", "Main place"),
    "nearest": ("Nächste Einrichtung", "Nearest service"),
    "within": ("innerhalb", "within"),
    "unreachable": ("nicht erreichbar", "unreachable"),
    "source_osm": ("OSM", "OSM"),
    "source_listing": ("lokaler Eintrag", "local listing"),
    "source_sva": ("Smart Village App", "Smart Village App"),
    "source_sva_provider": ("Smart Village App, Datenanbieter: {provider}",
                            "Smart Village App, data provider: {provider}"),
    "source_scenario": ("Szenario", "scenario"),
    "example_data": ("Beispieldaten, kein echter Eintrag", "example data, not a real listing"),
    "weight": ("Fahrten (Ab- und Ankünfte) im Fahrplan", "Arrivals + departures in timetable"),
    "profile_popup_head": ("Erreichbarkeit ({mode})", "Accessibility ({mode})"),
    "click_hint": ("Ein Klick auf einen Ortsteil zeigt unten sein Profil.",
                   "Click a district to see its profile below."),
    # profile
    "choose_unit": ("Ortsteil", "District"),
    "profile_table": ("Reisezeiten je Kategorie", "Travel times per category"),
    "profile_chart": ("Mittlere Reisezeit und Schwelle", "Median travel time and threshold"),
    "missing": ("Was fehlt", "What is missing"),
    "nothing_missing": ("Keine Lücke bei {mode} in diesem Ortsteil.",
                        "No gap for {mode} in this district."),
    "nearest_providers": ("Nächste Anbieter", "Nearest providers"),
    "col_category": ("Kategorie", "Category"),
    "col_median": ("Median", "Median"),
    "col_p90": ("P90", "P90"),
    "col_unit": ("Einheit", "Unit"),
    "col_threshold": ("Schwelle", "Threshold"),
    "col_share": ("Anteil innerhalb", "Share within"),
    "col_residents_within": ("Einwohner innerhalb", "Residents within"),
    "col_residents_outside": ("Einwohner außerhalb", "Residents beyond"),
    "col_class": ("Klasse", "Class"),
    "col_nearest": ("Nächste Einrichtung", "Nearest service"),
    "col_nearest_source": ("Quelle", "Source"),
    "col_method": ("Methode", "Method"),
    "col_district": ("Ortsteil", "District"),
    "col_municipality": ("Gemeinde", "Municipality"),
    "col_kind": ("Art", "Kind"),
    "col_population": ("Einwohner", "Residents"),
    "col_gaps": ("Lücken", "Gaps"),
    "col_knapp": ("knapp", "Tight"),
    "col_gap_categories": ("Kategorien mit Lücke", "Categories with gap"),
    "col_rank": ("Rang", "Rank"),
    "method_network": ("Straßennetz", "street network"),
    "method_straight_line": ("Luftlinie (genähert)", "straight line (approx.)"),
    # overview
    "overview_ranking": ("Rangliste: {category}, {mode}", "Ranking: {category}, {mode}"),
    "overview_ranking_help": (
        "Alle {n} Einheiten, schlechteste Versorgung zuerst. Spaltenköpfe anklicken zum Sortieren.",
        "All {n} units, worst coverage first. Click a column header to sort."),
    "overview_matrix": ("Gesamtbild: Lücken je Ortsteil über alle Kategorien ({mode})",
                        "Overall: gaps per district across all categories ({mode})"),
    "download_csv": ("Tabelle als CSV herunterladen", "Download table as CSV"),
    # status
    "status_snapshot": ("Datenstand", "Data snapshot"),
    "status_file": ("Schnappschuss-Datei", "Snapshot file"),
    "status_none": ("keiner (nur eingebettete Daten)", "none (embedded data only)"),
    "status_layers": ("Layer", "Layers"),
    "status_attribution": ("Namensnennung", "Attribution"),
    "status_approx": ("Ortsteilflächen sind genähert: {source}",
                      "District areas approximate: {source}"),
    "status_example": ("Beispieldaten: {what}", "Example data: {what}"),
    "status_assets_missing": ("Kartenbibliothek fehlt (Installation unvollständig): {files}",
                              "Map library missing (broken install): {files}"),
    "status_panel_missing": ("Noch nicht verfügbar: {what}", "Not available yet: {what}"),
    "no_result": ("Erreichbarkeit kann noch nicht berechnet werden: {reason}",
                  "Accessibility cannot be computed yet: {reason}"),
    "col_layer": ("Layer", "Layer"),
    "col_count": ("Anzahl", "Count"),
    "col_date": ("Stand", "Date"),
    "col_source": ("Quelle", "Source"),
    "col_licence": ("Lizenz", "Licence"),
    "col_note": ("Hinweis", "Note"),
    "embedded": ("eingebettet", "embedded"),
    "selected": ("Ausgewählt", "Selected"),
    "demo_mode": ("Demo-Modus", "Demo mode"),
}

#: Attribution line that must stay visible wherever OSM data is shown (the transit line
#: comes from the region file: ``region.transit.attribution``).
OSM_ATTRIBUTION = "© OpenStreetMap-Mitwirkende, ODbL"
OSM_ATTRIBUTION_EN = "© OpenStreetMap contributors, ODbL"


def t(key: str, lang: str = "de", **fmt: object) -> str:
    """Label for ``key`` in ``lang`` (unknown language -> German), formatted with ``fmt``."""
    de, en = _T[key]
    text = en if lang == "en" else de
    return text.format(**fmt) if fmt else text


def mode_label(mode: str, lang: str = "de") -> str:
    return (MODE_LABELS_EN if lang == "en" else MODE_LABELS).get(mode, mode)


def category_label(cat: Category, lang: str = "de") -> str:
    return cat.label_en if lang == "en" else cat.label


def gap_label(gap_class: str, lang: str = "de") -> str:
    key = f"gap_{gap_class}"
    return t(key, lang) if key in _T else str(gap_class)


def indicator_label(indicator: str, mode: str, lang: str = "de") -> str:
    if mode == "transit" and indicator in ("median", "p90"):
        return t(f"ind_{indicator}_transit", lang)
    return t(f"ind_{indicator}", lang)


def osm_attribution(lang: str = "de") -> str:
    return OSM_ATTRIBUTION_EN if lang == "en" else OSM_ATTRIBUTION
