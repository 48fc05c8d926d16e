"""The listing schema: one place for column names, German aliases, allowed values and limits.

Kept close to the Smart Village App point-of-interest model (name, categories, address
with lat/lon, contact, web URL, accessibility, opening hours), so rows can be mapped to
and from it; schedules use the OSM ``opening_hours`` syntax, which covers both fixed
opening hours and the recurring stops of mobile services.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Largest listing file accepted (bytes). A district's listings are a few hundred rows
#: (a few 100 kB); anything far larger is a wrong file and would only block the app.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Largest number of data rows accepted in one file.
MAX_ROWS = 50_000
#: Longest accepted text per field (characters); longer is almost surely a paste error.
MAX_TEXT = 1000
MAX_NAME = 200
MAX_ID = 64

#: Marker text for example rows (in the example file and shown in the UI).
EXAMPLE_NOTE = "Beispieldaten, keine echten Angebote"


@dataclass(frozen=True)
class Column:
    """One column of the listing schema, with its German label and a short explanation."""

    name: str
    label: str
    help: str
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("id", "Kennung",
           "Eindeutige Kennung des Eintrags; leer = wird aus Name, Kategorie und Ort gebildet. "
           "Gleiche Kennung beim nächsten Import = Eintrag wird aktualisiert.", "VW-LUETTE-1"),
    Column("name", "Name", "Pflichtfeld: Name des Angebots.", "Verkaufswagen (Beispiel)"),
    Column("category", "Kategorie",
           "Pflichtfeld (außer bei Art 'anchor'): Kategorie-Kennung oder -Bezeichnung der "
           "Region; mehrere mit Komma trennen (z. B. 'post, bank').", "lebensmittel"),
    Column("kind", "Art",
           "fixed (fest, Standard), mobile (mobil, z. B. Verkaufswagen, Sparkassenbus) oder "
           "anchor (Ankerort, der mehrere Angebote bündelt).", "mobile"),
    Column("lat", "Breite", "Breitengrad WGS84, Dezimalkomma oder -punkt (z. B. 52,2008).",
           "52,2008"),
    Column("lon", "Länge", "Längengrad WGS84 (z. B. 12,6056).", "12,6056"),
    Column("address", "Adresse",
           "Anschrift; verortet nur zusammen mit lat/lon oder wenn die Adresse im "
           "OSM-Schnappschuss vorkommt (keine Online-Geocodierung).", "Dorfstraße 1, Lütte"),
    Column("stop", "Haltestelle",
           "Name einer Haltestelle, wie er im Fahrplan (ÖPNV-Haltestellen der Region) steht.",
           "Lütte, Dorf"),
    Column("ortsteil", "Ortsteil", "Ortsteil, dessen Ortsmitte als Ort dient.", "Lütte"),
    Column("anchor", "Ankerort",
           "Kennung eines Eintrags der Art 'anchor' (in der Datei oder schon gespeichert), "
           "dessen Ort übernommen wird.", "AO-LUETTE"),
    Column("opening_hours", "Zeiten",
           "Wann das Angebot da ist, in OSM-opening_hours-Schreibweise (deutsche "
           "Tageskürzel Mo Di Mi Do Fr Sa So werden umgeschrieben, eindeutige Angaben wie "
           "'dienstags 10-11 Uhr' ebenfalls, mit Hinweis); leer = immer.",
           "Tu 10:00-11:00"),
    Column("provider", "Anbieter", "Wer das Angebot betreibt.", "Beispielanbieter"),
    Column("contact", "Kontakt", "Telefon oder E-Mail.", ""),
    Column("url", "Webseite", "Nur http:// oder https://.", ""),
    Column("accessibility", "Barrierefreiheit", "Freitext (z. B. 'stufenlos').", ""),
    Column("source", "Quelle", "Woher die Angabe stammt (z. B. 'Aushang Gemeinde, 2026').", ""),
    Column("valid_from", "gültig ab", "Datum JJJJ-MM-TT oder TT.MM.JJJJ; leer = unbegrenzt.",
           "2026-01-01"),
    Column("valid_to", "gültig bis", "Datum; nicht vor 'gültig ab'.", "2026-12-31"),
    Column("note", "Hinweis", "Freitext.", EXAMPLE_NOTE),
    Column("example", "Beispiel",
           "ja = Beispieldaten (werden überall als Beispiel gekennzeichnet); sonst leer/nein.",
           "ja"),
)

FIELDS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
#: Read from files but not stored: a weekday column ("Tag") next to "von"/"bis" times,
#: as planners lay out timetables; the validator turns them into ``opening_hours``.
READ_FIELDS: tuple[str, ...] = (*FIELDS, "day")
TEXT_FIELDS: tuple[str, ...] = (
    "address", "stop", "ortsteil", "anchor", "provider", "contact", "url", "accessibility",
    "source", "note",
)

#: Columns the store keeps in addition to the schema.
STORE_EXTRA: tuple[str, ...] = ("location_source", "updated_at", "updated_by")
STORE_FIELDS: tuple[str, ...] = (*FIELDS, *STORE_EXTRA)

KINDS: tuple[str, ...] = ("fixed", "mobile", "anchor")
KIND_LABELS: dict[str, str] = {"fixed": "fest", "mobile": "mobil", "anchor": "Ankerort"}
KIND_ALIASES: dict[str, str] = {
    "": "fixed", "fixed": "fixed", "fest": "fixed", "stationär": "fixed", "stationaer": "fixed",
    "ortsfest": "fixed", "mobile": "mobile", "mobil": "mobile", "rollend": "mobile",
    "anchor": "anchor", "anchor place": "anchor", "anker": "anchor", "ankerort": "anchor",
}

#: Accepted header spellings (after :func:`header_key`) -> schema field.
HEADER_ALIASES: dict[str, str] = {
    "kennung": "id", "nr": "id", "nummer": "id",
    "bezeichnung": "name", "angebot": "name",
    "kategorie": "category", "kategorien": "category", "categories": "category",
    "art": "kind", "typ": "kind", "type": "kind",
    "breite": "lat", "breitengrad": "lat", "latitude": "lat", "y": "lat",
    "länge": "lon", "laenge": "lon", "längengrad": "lon", "laengengrad": "lon",
    "longitude": "lon", "lng": "lon", "x": "lon",
    "adresse": "address", "anschrift": "address",
    "haltestelle": "stop", "bushaltestelle": "stop", "stop_name": "stop",
    "ort": "ortsteil", "dorf": "ortsteil", "district": "ortsteil",
    "ankerort": "anchor", "anker": "anchor", "anchor_id": "anchor",
    "zeiten": "opening_hours", "öffnungszeiten": "opening_hours",
    "oeffnungszeiten": "opening_hours", "schedule": "opening_hours", "termine": "opening_hours",
    "anbieter": "provider", "betreiber": "provider", "operator": "provider",
    "kontakt": "contact", "telefon": "contact",
    "webseite": "url", "website": "url", "internet": "url",
    "barrierefreiheit": "accessibility", "wheelchair": "accessibility",
    "quelle": "source",
    "gültig_ab": "valid_from", "gueltig_ab": "valid_from", "von": "valid_from",
    "gültig_bis": "valid_to", "gueltig_bis": "valid_to", "bis": "valid_to",
    "hinweis": "note", "notiz": "note", "bemerkung": "note", "anmerkung": "note",
    "beispiel": "example", "beispieldaten": "example",
    "day": "day", "tag": "day", "tage": "day", "wochentag": "day", "wochentage": "day",
    "weekday": "day",
}

TRUE_WORDS = {"ja", "j", "yes", "y", "true", "wahr", "1", "x"}
FALSE_WORDS = {"", "nein", "n", "no", "false", "falsch", "0"}


def header_key(raw: object) -> str:
    """Loose form of a header cell: case, spaces, dots and a unit suffix do not matter."""
    s = unicodedata.normalize("NFKC", str(raw)).strip().casefold()
    s = re.sub(r"\s*\(.*\)$", "", s)  # "Breite (WGS84)" -> "breite"
    s = re.sub(r"[\s.\-]+", "_", s).strip("_")
    return s


def canonical_field(raw: object) -> str | None:
    """Schema field for a header cell, or None if it is not one of ours."""
    key = header_key(raw)
    if key in FIELDS:
        return key
    if key in HEADER_ALIASES:
        return HEADER_ALIASES[key]
    for col in COLUMNS:  # German labels as written in the template's explanation sheet
        if key == header_key(col.label):
            return col.name
    return None


@dataclass(frozen=True)
class Issue:
    """One problem found in an input row: where (row, field) and why, in German."""

    row: int | None  # 1-based row as the user sees it (spreadsheet line / feature number)
    field: str
    message: str
    severity: str = "error"  # "error" blocks the import, "warning" does not
    row_word: str = "Zeile"

    def __str__(self) -> str:
        where = f"{self.row_word} {self.row}" if self.row is not None else "Datei"
        field = f", Feld '{self.field}'" if self.field else ""
        prefix = "" if self.severity == "error" else "Hinweis: "
        message = " ".join(self.message.split())  # one line, whatever a cell held
        return f"{prefix}{where}{field}: {message}"
