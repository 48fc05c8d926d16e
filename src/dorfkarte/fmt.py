"""Numbers for people: German conventions in the German UI, English ones in English.

German: ``1.234 Einwohner``, ``0,5 km``, ``12,3 %``; English: ``1,234 residents``,
``0.5 km``, ``12.3 %``. Every number the app, the maps, the demo and the exports show goes
through here, so one language prints one way everywhere. Unknown values print as unknown
(``keine Angabe``), never as 0; unreachable as ``nicht erreichbar``.
"""

from __future__ import annotations

import math

from dorfkarte.i18n import t

#: What a missing number prints as in a compact cell (tables, metrics).
DASH = "–"


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def number(value: float | None, decimals: int = 0, lang: str = "de") -> str:
    """``1.234,5`` (de) / ``1,234.5`` (en); missing -> ``–``, infinite -> unreachable."""
    if _missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    if math.isinf(v):
        return t("unreachable", lang)
    s = f"{v:,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]  # no "-0"
    if lang == "en":
        return s
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def integer(value: float | None, lang: str = "de") -> str:
    """A count or a number of residents: ``1.234`` / ``1,234``."""
    return number(value, 0, lang)


def signed(value: float | None, decimals: int = 0, lang: str = "de") -> str:
    """A change: ``+1.234`` / ``-12`` (for deltas)."""
    if _missing(value):
        return DASH
    s = number(value, decimals, lang)
    return s if s.startswith("-") or float(value) == 0 else f"+{s}"  # type: ignore[arg-type]


def value(v: float | None, unit: str, lang: str = "de") -> str:
    """Travel time (``min``) or distance (``m``); missing -> "keine Angabe",
    ``inf`` -> "nicht erreichbar". Minutes below 10 keep one decimal, metres round to 10."""
    if _missing(v):
        return t("no_data", lang)
    x = float(v)  # type: ignore[arg-type]
    if math.isinf(x):
        return t("unreachable", lang)
    if unit == "m":
        return f"{number(round(x, -1), 0, lang)} m"
    return f"{number(x, 1 if x < 10 else 0, lang)} min"


def threshold(v: float | None, unit: str, lang: str = "de") -> str:
    """A threshold as the region file states it: ``15 min``, ``1.000 m``, ``7,5 min``."""
    if _missing(v):
        return DASH
    x = float(v)  # type: ignore[arg-type]
    decimals = 0 if x == round(x) else 1
    return f"{number(x, decimals, lang)} {unit}"


def km(metres_or_km: float | None, lang: str = "de", *, from_metres: bool = False) -> str:
    """``0,5 km`` / ``0.5 km`` (one decimal)."""
    if _missing(metres_or_km):
        return DASH
    x = float(metres_or_km) / (1000.0 if from_metres else 1.0)  # type: ignore[arg-type]
    return f"{number(x, 1, lang)} km"


def share(v: float | None, lang: str = "de", decimals: int = 0) -> str:
    """A share (0..1) as percent: ``12 %`` / ``12,3 %`` (``decimals``); missing ->
    "keine Angabe"."""
    if _missing(v):
        return t("no_data", lang)
    return f"{number(100 * float(v), decimals, lang)} %"  # type: ignore[arg-type]


def points(delta_share: float | None, lang: str = "de") -> str:
    """A change of a share in percentage points: ``+12 %-Pkt.`` / ``+12 pp``."""
    if _missing(delta_share):
        return DASH
    return f"{signed(100 * float(delta_share), 0, lang)} {t('pct_points', lang)}"  # type: ignore[arg-type]
