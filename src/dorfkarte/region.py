"""Region model: everything region-specific is read from one TOML file.

Any rural region can be described the same way: municipalities, where the districts
come from, service categories with OSM tag rules and German labels, travel speeds and
reachability thresholds (each with its source).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from dorfkarte import filememo, region_schema
from dorfkarte.enums import GapClass, Mode, Source
from dorfkarte.errors import RegionError, UnknownCategoryError
from dorfkarte.tags import TagRule, parse_rule

#: Network modes with a street graph: the plain ``str`` values of :class:`~dorfkarte.enums.Mode`
#: (members would show as ``<Mode.WALK: 'walk'>`` in ``!r`` messages).
NETWORK_MODES: tuple[str, ...] = (Mode.WALK.value, Mode.BIKE.value, Mode.DRIVE.value)
#: Pseudo-mode "ÖPNV-Nähe": distance to the nearest served stop.
TRANSIT = Mode.TRANSIT.value
MODES: tuple[str, ...] = (*NETWORK_MODES, TRANSIT)
MODE_LABELS: dict[str, str] = dict(zip(MODES, ("Fuß", "Rad", "Auto", "ÖPNV-Nähe"), strict=True))
MODE_LABELS_EN: dict[str, str] = dict(zip(MODES, ("Walk", "Bike", "Car", "Transit access"),
                                          strict=True))
#: Bus & rail by timetable (dorfkarte.pt): computed on request only, thresholds optional.
PT = "pt"
ALL_MODES: tuple[str, ...] = (*MODES, PT)
MODE_LABELS[PT] = "Bus & Bahn (Fahrplan)"
MODE_LABELS_EN[PT] = "Bus & rail (timetable)"
#: Category sources: OSM tag rules, the stops layer, or named places of the region file
#: (central places, dorfkarte.central).
CATEGORY_SOURCES = (Source.OSM, Source.TRANSIT, Source.PLACES)
#: Gap class where nothing can be said (no service point, no origin): not a "Lücke", since
#: "no GP anywhere" would be an invented fact when the data simply lacks it. Same value as
#: ``dorfkarte.coverage.NO_DATA``; defined here so the region model needs no coverage import.
NO_DATA = GapClass.NO_DATA


@dataclass(frozen=True)
class Threshold:
    """Reachability limit for one category and mode; ``minutes`` or (transit) ``metres``."""

    minutes: float | None = None
    metres: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    label_en: str
    icon: str
    color: str
    rules: tuple[TagRule, ...]
    thresholds: dict[str, Threshold]
    source: str = "osm"  # "osm", "transit" or "places" (CATEGORY_SOURCES)
    #: Modes whose threshold the category states itself (not from ``[defaults]``).
    own_modes: frozenset[str] = frozenset()

    def measured_in(self, mode: str) -> bool:
        """Whether the category is analysed in ``mode``.

        Central places (``source = "places"``) are a test with its own thresholds (RIN 2008:
        public transport and car): walking 15 min to the Mittelzentrum is no criterion of
        any plan, so such a category exists only in the modes it states thresholds for.
        """
        return self.source != Source.PLACES or mode in self.own_modes

    def matches(self, tags: dict[str, Any]) -> bool:
        return any(r.matches(tags) for r in self.rules)


@dataclass(frozen=True)
class Municipality:
    name: str
    ags: str | None = None


@dataclass(frozen=True)
class MunicipalityOutlines:
    """Official outlines of the municipalities (e.g. BKG VG250), matched by AGS."""

    file: Path | None = None
    ags_column: str = "AGS"
    name_column: str = "GEN"
    source: str = ""
    licence: str = ""
    attribution: str = ""
    data_date: str = ""


@dataclass(frozen=True)
class PopulationGrid:
    """A census grid (e.g. Zensus 2022, 1 km or 100 m cells) to estimate residents from.

    Cells are located either by an INSPIRE grid id (``id_column``, "CRS3035RES1000mN...E...")
    or by their centre (``x_column``/``y_column`` in ``crs``, cells ``cell_m`` wide).
    Shares are percent of the cell's residents; ``secret_values`` mark "not published".
    """

    file: Path | None = None
    id_column: str = ""
    x_column: str = ""
    y_column: str = ""
    crs: str = "EPSG:3035"
    cell_m: float = 0.0
    residents_column: str = "Einwohner"
    share_65plus_column: str = ""
    share_under18_column: str = ""
    secret_values: tuple[float, ...] = (-9.0, -1.0)
    separator: str = ","
    source: str = ""
    licence: str = ""
    attribution: str = ""
    data_date: str = ""
    #: A published unit figure further than this share from the census estimate is noted.
    max_deviation: float = 0.3


@dataclass(frozen=True)
class DistrictSource:
    source: str  # "osm" | "file" | "centres"
    admin_level: int | None = None
    fallback: str | None = None
    file: Path | None = None
    centres_file: Path | None = None
    name_column: str = "name"
    #: Optional columns of a districts file; missing columns are simply not used.
    municipality_column: str = "municipality"
    population_column: str = "population"
    #: Source and licence of a districts file, shown with the layer (``info``, app, exports).
    file_source: str = ""
    licence: str = ""
    #: Optional ``ortsteil,stop_name,lat,lon`` file: a centre whose ``coord_source`` contains
    #: ``imprecise_marker`` is replaced by the mean of the district's own stops.
    centre_stops_file: Path | None = None
    imprecise_marker: str = "arc-minute"


@dataclass(frozen=True)
class TransitSettings:
    stops_file: Path | None
    source: str = ""
    licence: str = ""
    attribution: str = ""
    min_weight: float = 0.0
    #: Date of the timetable data, if the source states one ("" = unknown, shown as such).
    data_date: str = ""


@dataclass(frozen=True)
class Modes:
    walk_kmh: float = 4.5
    bike_kmh: float = 15.0
    rural_kmh: float = 80.0
    urban_kmh: float = 50.0
    highway_kmh: dict[str, float] = field(default_factory=dict)
    detour_factor: float = 1.3
    #: Per network mode: ways added to / removed from osmnx's default network filter
    #: (``[modes.walk] include = ["highway=cycleway&foot=designated"]``).
    include: dict[str, tuple[TagRule, ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[TagRule, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class GapClasses:
    ok_share: float = 0.9
    knapp_share: float = 0.5
    source: str = ""

    def classify(self, share: float | None) -> str:
        """``ok`` / ``knapp`` / ``Lücke`` from the share of residents within threshold.

        ``None``/NaN (no share computable) gives :data:`NO_DATA`, never a gap.
        """
        if share is None or share != share:
            return GapClass.NO_DATA
        if share >= self.ok_share:
            return GapClass.OK
        if share >= self.knapp_share:
            return GapClass.TIGHT
        return GapClass.GAP


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    path: Path
    crs: str
    buffer_m: float
    grid_m: float
    unit_label: str
    municipalities: tuple[Municipality, ...]
    districts: DistrictSource
    transit: TransitSettings
    modes: Modes
    gap_classes: GapClasses
    home_rules: tuple[TagRule, ...]
    categories: dict[str, Category]
    outlines: MunicipalityOutlines = field(default_factory=MunicipalityOutlines)
    population: PopulationGrid = field(default_factory=PopulationGrid)
    #: Optional route alignments (GeoJSON lines) drawn on the offline base map.
    route_lines: Path | None = None
    route_lines_attribution: str = ""
    #: IANA time zone of the region: stored times are UTC, people read local time.
    timezone: str = "Europe/Berlin"
    #: Problems that do not stop loading (unknown keys), shown by the CLI and the app.
    warnings: tuple[str, ...] = ()
    #: ``[smart_village.categories]``: category name in the town's Smart Village App ->
    #: category id of this region (``dorfkarte.listings.smart_village``).
    smart_village_categories: dict[str, str] = field(default_factory=dict)

    def category(self, cid: str) -> Category:
        try:
            return self.categories[cid]
        except KeyError:
            known = ", ".join(self.categories)
            raise UnknownCategoryError(
                f"Unbekannte Kategorie {cid!r} (Region {self.id}); bekannt: {known}"
            ) from None

    def category_id(self, text: str) -> str:
        """The category id for an id or a label, German or English, any case.

        ``--category Hausarzt`` works wherever ``--category hausarzt`` does; unknown text
        raises :class:`UnknownCategoryError` naming the known ids and labels.
        """
        if text in self.categories:
            return text
        key = str(text).strip().casefold()
        for cid, cat in self.categories.items():
            if key in (cid.casefold(), cat.label.casefold(), cat.label_en.casefold()):
                return cid
        known = ", ".join(f"{c} ({cat.label})" for c, cat in self.categories.items())
        raise UnknownCategoryError(
            f"Unbekannte Kategorie {text!r} (Region {self.id}); bekannt: {known}")

    def threshold(self, cid: str, mode: str) -> Threshold:
        return self.category(cid).thresholds[mode]

    def osm_categories(self) -> list[Category]:
        return [c for c in self.categories.values() if c.source == Source.OSM]


def _req(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        name = f"{where}.{key}" if where else key
        raise RegionError(f"Regionsdatei: Schlüssel '{name}' fehlt")
    return table[key]


def _threshold(raw: Any, where: str) -> Threshold:
    if not isinstance(raw, dict):
        raise RegionError(f"Regionsdatei: '{where}' muss eine Tabelle sein")
    minutes, metres = raw.get("minutes"), raw.get("metres")
    if minutes is None and metres is None:
        raise RegionError(f"Regionsdatei: '{where}' braucht 'minutes' oder 'metres'")
    for name, val in (("minutes", minutes), ("metres", metres)):
        if val is not None and (not isinstance(val, int | float) or val <= 0):
            raise RegionError(f"Regionsdatei: '{where}.{name}' muss eine positive Zahl sein")
    return Threshold(
        minutes=float(minutes) if minutes is not None else None,
        metres=float(metres) if metres is not None else None,
        source=str(raw.get("source", "")),
    )


def _metric_crs(value: Any) -> str:
    """The analysis CRS must be projected in metres: buffers, grids and speeds assume it."""
    text = str(value)
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise RegionError(f"Regionsdatei: 'region.crs' = {text!r} ist kein bekanntes "
                          "Koordinatensystem (z. B. \"EPSG:25833\")") from None
    units = {a.unit_name for a in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        raise RegionError(f"Regionsdatei: 'region.crs' = {text!r} ist nicht metrisch; nötig ist "
                          "ein projiziertes System in Metern (z. B. UTM: \"EPSG:25833\")")
    return text


def _rel(base: Path, value: str | None) -> Path | None:
    if not value:
        return None
    p = Path(value)
    return p if p.is_absolute() else (base / p).resolve()


def load_region(path: str | Path) -> Region:
    """Read and validate a region file; raise :class:`RegionError` naming the problem."""
    path = Path(path)
    raw = _read_toml(path)
    warnings = region_schema.check(raw)
    base = path.parent

    reg = _req(raw, "region", "")
    rid = str(_req(reg, "id", "region"))
    munis_raw = _req(raw, "municipalities", "")
    outlines = MunicipalityOutlines()
    if isinstance(munis_raw, dict):
        # [municipalities] file = ... plus [[municipalities.list]] name/ags
        outlines = MunicipalityOutlines(
            file=_rel(base, munis_raw.get("file")),
            ags_column=str(munis_raw.get("ags_column", "AGS")),
            name_column=str(munis_raw.get("name_column", "GEN")),
            source=str(munis_raw.get("source", "")),
            licence=str(munis_raw.get("licence", "")),
            attribution=str(munis_raw.get("attribution", "")),
            data_date=str(munis_raw.get("data_date", "")),
        )
        munis_raw = munis_raw.get("list", [])
    if not isinstance(munis_raw, list) or not munis_raw:
        raise RegionError("Regionsdatei: 'municipalities' braucht mindestens eine Gemeinde")
    munis = tuple(
        Municipality(str(_req(m, "name", "municipalities[]")), m.get("ags")) for m in munis_raw
    )

    d = _req(raw, "districts", "")
    dsource = str(_req(d, "source", "districts"))
    if dsource not in {"osm", "file", "centres"}:
        raise RegionError(
            f"Regionsdatei: 'districts.source' = {dsource!r}; erlaubt: osm, file, centres"
        )
    if dsource == "osm":
        _req(d, "admin_level", "districts")
    if dsource == "file":
        _req(d, "file", "districts")
    if dsource == "centres" or d.get("fallback") == "centres":
        _req(d, "centres_file", "districts")
    districts = DistrictSource(
        source=dsource,
        admin_level=int(d["admin_level"]) if "admin_level" in d else None,
        fallback=d.get("fallback"),
        file=_rel(base, d.get("file")),
        centres_file=_rel(base, d.get("centres_file")),
        name_column=str(d.get("name_column", "name")),
        municipality_column=str(d.get("municipality_column", "municipality")),
        population_column=str(d.get("population_column", "population")),
        file_source=str(d.get("file_source", "")),
        licence=str(d.get("licence", "")),
        centre_stops_file=_rel(base, d.get("centre_stops_file")),
        imprecise_marker=str(d.get("imprecise_marker", "arc-minute")),
    )

    t = raw.get("transit", {})
    transit = TransitSettings(
        stops_file=_rel(base, t.get("stops_file")),
        source=str(t.get("source", "")),
        licence=str(t.get("licence", "")),
        attribution=str(t.get("attribution", "")),
        min_weight=float(t.get("min_weight", 0.0)),
        data_date=str(t.get("data_date", "")),
    )

    m = raw.get("modes", {})
    modes = Modes(
        walk_kmh=float(m.get("walk", {}).get("speed_kmh", 4.5)),
        bike_kmh=float(m.get("bike", {}).get("speed_kmh", 15.0)),
        rural_kmh=float(m.get("drive", {}).get("rural_kmh", 80.0)),
        urban_kmh=float(m.get("drive", {}).get("urban_kmh", 50.0)),
        highway_kmh={k: float(v) for k, v in m.get("drive", {}).get("highway_kmh", {}).items()},
        detour_factor=float(m.get("straight_line", {}).get("detour_factor", 1.3)),
    )

    g = raw.get("gap_classes", {})
    gaps = GapClasses(
        ok_share=float(g.get("ok_share", 0.9)),
        knapp_share=float(g.get("knapp_share", 0.5)),
        source=str(g.get("source", "")),
    )
    if not 0.0 <= gaps.knapp_share <= gaps.ok_share <= 1.0:
        raise RegionError("Regionsdatei: 'gap_classes' braucht 0 <= knapp_share <= ok_share <= 1 "
                          f"(ist {gaps.knapp_share:g} / {gaps.ok_share:g})")

    defaults_raw = raw.get("defaults", {}).get("thresholds", {})
    defaults = {mode: _threshold(v, f"defaults.thresholds.{mode}")
                for mode, v in defaults_raw.items()}
    unknown_modes = set(defaults) - set(ALL_MODES)
    if unknown_modes:
        raise RegionError(f"Regionsdatei: unbekannter Modus {sorted(unknown_modes)[0]!r}")

    cats_raw = _req(raw, "categories", "")
    if not isinstance(cats_raw, dict) or not cats_raw:
        raise RegionError("Regionsdatei: 'categories' braucht mindestens eine Kategorie")
    categories: dict[str, Category] = {}
    for cid, c in cats_raw.items():
        where = f"categories.{cid}"
        label = str(_req(c, "label", where))
        source = str(c.get("source", "osm"))
        if source not in CATEGORY_SOURCES:
            raise RegionError(f"Regionsdatei: '{where}.source' = {source!r}; erlaubt: "
                              + ", ".join(CATEGORY_SOURCES))
        rules_raw = c.get("osm", [])
        if source == Source.OSM and not rules_raw:
            raise RegionError(f"Regionsdatei: Schlüssel '{where}.osm' fehlt oder ist leer")
        rules = tuple(parse_rule(r) for r in rules_raw)
        thresholds = dict(defaults)
        for mode, v in c.get("thresholds", {}).items():
            if mode not in ALL_MODES:
                raise RegionError(f"Regionsdatei: '{where}.thresholds.{mode}': unbekannter Modus")
            thresholds[mode] = _threshold(v, f"{where}.thresholds.{mode}")
        missing = [mode for mode in MODES if mode not in thresholds]
        if missing:
            raise RegionError(
                f"Regionsdatei: Schwelle für '{where}' im Modus {missing[0]!r} fehlt "
                f"(weder in defaults.thresholds noch in {where}.thresholds)"
            )
        categories[cid] = Category(
            id=cid,
            label=label,
            label_en=str(c.get("label_en", label)),
            icon=str(c.get("icon", "circle")),
            color=str(c.get("color", "#555555")),
            rules=rules,
            thresholds=thresholds,
            source=source,
            own_modes=frozenset(str(m) for m in c.get("thresholds", {})),
        )

    population = _population(raw.get("population", {}), base)
    routes = raw.get("routes", {})
    sva_raw = raw.get("smart_village", {}).get("categories", {})
    if not isinstance(sva_raw, dict):
        raise RegionError("Regionsdatei: 'smart_village.categories' muss eine Tabelle sein "
                          '(App-Kategorie = "Kategorie-Kennung")')
    sva: dict[str, str] = {}
    for name, cid in sva_raw.items():
        if str(cid) not in categories:
            raise RegionError(f"Regionsdatei: 'smart_village.categories.{name}' = {cid!r}: "
                              f"unbekannte Kategorie; bekannt: {', '.join(categories)}")
        sva[str(name)] = str(cid)

    homes = raw.get("homes", {}).get("rules", ["building=house", "building=residential"])
    modes = _with_network_rules(modes, m)
    return Region(
        id=rid,
        name=str(_req(reg, "name", "region")),
        path=path.resolve(),
        crs=_metric_crs(reg.get("crs", "EPSG:3857")),
        buffer_m=float(reg.get("buffer_m", 3000)),
        grid_m=float(reg.get("grid_m", 250)),
        unit_label=str(reg.get("unit_label", "Ortsteile")),
        municipalities=munis,
        districts=districts,
        transit=transit,
        modes=modes,
        gap_classes=gaps,
        home_rules=tuple(parse_rule(r) for r in homes),
        categories=categories,
        outlines=outlines,
        population=population,
        route_lines=_rel(base, routes.get("file")),
        route_lines_attribution=str(routes.get("attribution", "")),
        timezone=_timezone(reg.get("timezone", "Europe/Berlin")),
        warnings=tuple(warnings),
        smart_village_categories=sva,
    )


def _population(p: Any, base: Path) -> PopulationGrid:
    """The ``[population]`` table: where the census grid is and what its columns mean."""
    if not isinstance(p, dict):
        raise RegionError("Regionsdatei: 'population' muss eine Tabelle sein")
    if not p:
        return PopulationGrid()
    _req(p, "file", "population")
    if not p.get("id_column") and not (p.get("x_column") and p.get("y_column")):
        raise RegionError("Regionsdatei: 'population' braucht 'id_column' oder "
                          "'x_column' + 'y_column' (+ 'crs', 'cell_m')")
    if not p.get("id_column"):
        cell = p.get("cell_m")
        if not isinstance(cell, int | float) or cell <= 0:
            raise RegionError("Regionsdatei: 'population.cell_m' muss eine positive Zahl sein")
    crs = str(p.get("crs", "EPSG:3035"))
    try:
        _metric_crs(crs)
    except RegionError:
        raise RegionError(f"Regionsdatei: 'population.crs' = {crs!r} ist nicht metrisch; "
                          "Gitterzellen brauchen ein projiziertes System in Metern "
                          "(z. B. \"EPSG:3035\")") from None
    secret = p.get("secret_values", [-9, -1])
    return PopulationGrid(
        file=_rel(base, p.get("file")),
        id_column=str(p.get("id_column", "")),
        x_column=str(p.get("x_column", "")),
        y_column=str(p.get("y_column", "")),
        crs=crs,
        cell_m=float(p.get("cell_m", 0.0)),
        residents_column=str(p.get("residents_column", "Einwohner")),
        share_65plus_column=str(p.get("share_65plus_column", "")),
        share_under18_column=str(p.get("share_under18_column", "")),
        secret_values=tuple(float(v) for v in secret),
        separator=str(p.get("separator", ",")),
        source=str(p.get("source", "")),
        licence=str(p.get("licence", "")),
        attribution=str(p.get("attribution", "")),
        data_date=str(p.get("data_date", "")),
        max_deviation=float(p.get("max_deviation", 0.3)),
    )


def raw_tables(path: str | Path) -> dict[str, Any]:
    """The region file's TOML tables as read (for the tables other modules check themselves:
    ``[timetable]``, central places), read once per file version; a copy per call."""
    return _read_toml_memo(Path(path))


def _read_toml(path: Path) -> dict[str, Any]:
    """The file as TOML; a folder, UTF-16 or binary file gets a sentence, not a traceback."""
    if path.is_dir():
        raise RegionError(f"Regionsdatei {path} ist ein Ordner; erwartet wird eine .toml-Datei")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegionError(f"Regionsdatei nicht gefunden: {path}") from None
    except OSError as exc:
        raise RegionError(f"Regionsdatei {path} nicht lesbar: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegionError(f"Regionsdatei {path} ist UTF-16 kodiert; bitte als UTF-8 speichern")
    if b"\x00" in data[:4096]:
        raise RegionError(f"Regionsdatei {path} ist keine Textdatei (Binärdaten)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegionError(f"Regionsdatei {path}: Zeile {line} ist kein UTF-8 "
                          "(bitte als UTF-8 speichern)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegionError(f"Regionsdatei {path}: kein gültiges TOML ({exc})") from None


_read_toml_memo = filememo.by_files(lambda path: ((), [path]))(_read_toml)


def _with_network_rules(modes: Modes, raw: dict[str, Any]) -> Modes:
    """``include`` / ``exclude`` tag rules per network mode from ``[modes.<mode>]``."""
    from dataclasses import replace

    inc: dict[str, tuple[TagRule, ...]] = {}
    exc: dict[str, tuple[TagRule, ...]] = {}
    for mode in NETWORK_MODES:
        table = raw.get(mode, {})
        if table.get("include"):
            inc[mode] = tuple(parse_rule(r) for r in table["include"])
        if table.get("exclude"):
            exc[mode] = tuple(parse_rule(r) for r in table["exclude"])
    return replace(modes, include=inc, exclude=exc)


def _timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = str(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise RegionError(f"Regionsdatei: 'region.timezone' = {text!r} ist keine bekannte "
                          "Zeitzone (z. B. \"Europe/Berlin\")") from None
    return text
