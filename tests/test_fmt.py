"""dorfkarte.fmt: German conventions in German, English ones in English, everywhere."""

from __future__ import annotations

import math

import pytest

from dorfkarte import fmt, maps


@pytest.mark.parametrize(("value", "decimals", "de", "en"), [
    (1234, 0, "1.234", "1,234"),
    (1234567.891, 1, "1.234.567,9", "1,234,567.9"),
    (0.5, 1, "0,5", "0.5"),
    (12.345, 1, "12,3", "12.3"),
    (-0.04, 1, "0,0", "0.0"),
    (None, 0, "–", "–"),
    (math.nan, 0, "–", "–"),
])
def test_number(value: float, decimals: int, de: str, en: str) -> None:
    assert fmt.number(value, decimals, "de") == de
    assert fmt.number(value, decimals, "en") == en


def test_units_shares_and_unknowns() -> None:
    assert fmt.integer(1234, "de") == "1.234" and fmt.integer(1234, "en") == "1,234"
    assert fmt.km(0.5, "de") == "0,5 km" and fmt.km(500, "en", from_metres=True) == "0.5 km"
    assert fmt.share(0.123, "de", 1) == "12,3 %" and fmt.share(0.123, "en", 1) == "12.3 %"
    assert fmt.value(1234.0, "m", "de") == "1.230 m"
    assert fmt.value(7.25, "min", "de") == "7,2 min" and fmt.value(7.25, "min", "en") == "7.2 min"
    assert fmt.value(math.inf, "min", "de") == "nicht erreichbar"
    assert fmt.value(math.nan, "min", "en") == "no data"  # unknown, never 0
    assert fmt.share(None, "de") == "keine Angabe"
    assert fmt.threshold(1000, "m", "de") == "1.000 m" and fmt.threshold(7.5, "min", "de") \
        == "7,5 min"
    assert fmt.signed(3, 0, "de") == "+3" and fmt.signed(-1200, 0, "de") == "-1.200"
    assert fmt.points(0.12, "de") == "+12 %-Pkt." and fmt.points(0.12, "en") == "+12 pp"


def test_maps_use_the_same_formatter() -> None:
    for lang in ("de", "en"):
        assert maps.fmt_number(12345.6, 1, lang) == fmt.number(12345.6, 1, lang)
        assert maps.fmt_value(12.0, "min", lang) == fmt.value(12.0, "min", lang)
        assert maps.fmt_share(0.5, lang) == fmt.share(0.5, lang)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_numbers_print_the_same_in_every_tab(region, tmp_path, lang: str) -> None:
    """Overview, profile, map popups/legend and the demo print one value one way."""
    import re

    from dorfkarte import views
    from dorfkarte.i18n import category_label, t
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.overview import ranking_display
    from dorfkarte.ui.profile import profile_table
    from dorfkarte.workspace import Workspace

    ws = Workspace(region, tmp_path)
    res = ws.result(categories=["haltestelle"], thresholds={("haltestelle", "walk"): 7.5})
    for mode in ("walk", "transit"):
        shown = ranking_display(views.ranking(res, "haltestelle", mode), lang)
        ctx = UIContext(region=region, data_dir=tmp_path, snapshot=ws.snapshot, lang=lang,
                        category="haltestelle", mode=mode, result=res, workspace=ws)
        label = category_label(region.categories["haltestelle"], lang)
        for _, row in shown.head(5).iterrows():
            name = row[t("col_district", lang)]
            prof = profile_table(ctx, name).set_index(t("col_category", lang)).loc[label]
            for col in ("col_median", "col_p90", "col_threshold"):
                assert prof[t(col, lang)] == row[t(col, lang)], (mode, name, col)
            ind = views.pair_rows_unit(res, name, mode).iloc[0]
            assert row[t("col_median", lang)] == maps.fmt_value(ind["median"], ind["unit"], lang)
            assert row[t("col_threshold", lang)] == fmt.threshold(ind["threshold"], ind["unit"],
                                                                  lang)
    # the walk threshold 7.5 min prints with the language's decimal mark everywhere
    assert fmt.threshold(7.5, "min", lang) == ("7,5 min" if lang == "de" else "7.5 min")
    legend = maps.build_map(ws.snapshot, region, res, category="haltestelle", mode="walk",
                            lang=lang).get_root().render()
    assert fmt.threshold(7.5, "min", lang) in legend
    sep = "." if lang == "de" else ","
    assert re.search(rf"1{re.escape(sep)}000 m", fmt.threshold(1000, "m", lang))
