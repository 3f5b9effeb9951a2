"""Generate ``de_place_adjectives.csv``: German place adjective (uninflected) -> place.

Run from the repository root (needs babel)::

    python -m pipeline.link.data.generate_place_adjectives

Places are the German CLDR territory names (``babel.Locale('de').territories``, the
two-letter codes only) plus a short list of world regions, continents and former states
that German news often derives adjectives from. Regular adjectives are derived by rule
(Japan -> japanisch, Ukraine -> ukrainisch, Russland -> russisch, Kasachstan -> kasachisch,
Kenia -> kenianisch, ...); a rule-derived adjective that two places would share is
dropped. Irregular adjectives (China -> chinesisch, Frankreich -> französisch, ...) are
listed by hand below and always win. Several candidates per place are harmless: the
file is only a lookup table for adjectives seen in text.
"""

from __future__ import annotations

import csv
from pathlib import Path

OUT = Path(__file__).with_name("de_place_adjectives.csv")

#: CLDR codes that are not places an adjective refers to
_SKIP_CODES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ", "CP", "DG", "EA", "IC", "TA", "AC"}

#: irregular or ambiguous adjectives (general German usage), place -> adjectives
IRREGULAR: dict[str, list[str]] = {
    "Vereinigte Staaten": ["amerikanisch", "US-amerikanisch"],
    "Vereinigtes Königreich": ["britisch", "großbritannisch"],
    "England": ["englisch"],
    "Schottland": ["schottisch"],
    "Wales": ["walisisch"],
    "Elsass": ["elsässisch"],
    "Lothringen": ["lothringisch"],
    "Kreta": ["kretisch"],
    "China": ["chinesisch"],
    "Deutschland": ["deutsch", "bundesdeutsch"],
    "Frankreich": ["französisch"],
    "Polen": ["polnisch"],
    "Estland": ["estnisch"],
    "Island": ["isländisch"],
    "Dänemark": ["dänisch"],
    "Schweiz": ["schweizerisch", "eidgenössisch"],
    "Niederlande": ["niederländisch", "holländisch"],
    "Belarus": ["belarussisch", "weißrussisch"],
    "Portugal": ["portugiesisch"],
    "Vietnam": ["vietnamesisch"],
    "Libanon": ["libanesisch"],
    "Sudan": ["sudanesisch"],
    "Südsudan": ["südsudanesisch"],
    "Nepal": ["nepalesisch"],
    "Jemen": ["jemenitisch"],
    "Senegal": ["senegalesisch"],
    "Malta": ["maltesisch"],
    "Zypern": ["zyprisch", "zypriotisch"],
    "Monaco": ["monegassisch"],
    "Venezuela": ["venezolanisch"],
    "Chile": ["chilenisch"],
    "Peru": ["peruanisch"],
    "Ecuador": ["ecuadorianisch"],
    "Paraguay": ["paraguayisch"],
    "Uruguay": ["uruguayisch"],
    "Italien": ["italienisch"],
    "Brasilien": ["brasilianisch"],
    "Kolumbien": ["kolumbianisch"],
    "Bolivien": ["bolivianisch"],
    "Saudi-Arabien": ["saudi-arabisch", "saudisch"],
    "Vereinigte Arabische Emirate": ["emiratisch"],
    "Kosovo": ["kosovarisch", "kosovo-albanisch"],
    "Montenegro": ["montenegrinisch"],
    "Bosnien und Herzegowina": ["bosnisch", "bosnisch-herzegowinisch"],
    "Nordmazedonien": ["nordmazedonisch", "mazedonisch"],
    "Republik Moldau": ["moldauisch", "moldawisch"],
    "Myanmar": ["myanmarisch", "birmanisch"],
    "Sri Lanka": ["sri-lankisch"],
    "Bangladesch": ["bangladeschisch"],
    "Laos": ["laotisch"],
    "Libyen": ["libysch"],
    "Niger": ["nigrisch"],
    "Ghana": ["ghanaisch"],
    "Tansania": ["tansanisch"],
    "Haiti": ["haitianisch"],
    "Togo": ["togoisch", "togolesisch"],
    "Mali": ["malisch"],
    "Simbabwe": ["simbabwisch"],
    "Katar": ["katarisch"],
    "Kuwait": ["kuwaitisch"],
    "Singapur": ["singapurisch"],
    "Philippinen": ["philippinisch"],
    "Malaysia": ["malaysisch"],
    "Neuseeland": ["neuseeländisch"],
    "Thailand": ["thailändisch"],
    "Grönland": ["grönländisch"],
    "Palästinensische Autonomiegebiete": ["palästinensisch"],
    "Israel": ["israelisch"],
    "Ägypten": ["ägyptisch"],
    "Türkei": ["türkisch"],
    "Ukraine": ["ukrainisch"],
    "Tschechien": ["tschechisch"],
    "Slowakei": ["slowakisch"],
    "Mongolei": ["mongolisch"],
    "Kongo-Kinshasa": ["kongolesisch"],
    # regions, continents and former states (not CLDR territories)
    "Europa": ["europäisch"],
    "Asien": ["asiatisch"],
    "Afrika": ["afrikanisch"],
    "Australien": ["australisch"],
    "Lateinamerika": ["lateinamerikanisch"],
    "Südamerika": ["südamerikanisch"],
    "Nordamerika": ["nordamerikanisch"],
    "Mittelamerika": ["mittelamerikanisch"],
    "Ozeanien": ["ozeanisch"],
    "Arktis": ["arktisch"],
    "Antarktis": ["antarktisch"],
    "Korea": ["koreanisch"],
    "Sowjetunion": ["sowjetisch"],
    "Jugoslawien": ["jugoslawisch"],
    "Tschechoslowakei": ["tschechoslowakisch"],
    "Deutsche Demokratische Republik": ["ostdeutsch"],
    "Skandinavien": ["skandinavisch"],
    "Baltikum": ["baltisch"],
    "Balkan": ["balkanisch"],
    "Kaukasus": ["kaukasisch"],
    "Sibirien": ["sibirisch"],
    "Tschetschenien": ["tschetschenisch"],
    "Kurdistan": ["kurdisch"],
    "Tibet": ["tibetisch"],
    "Ferner Osten": ["fernöstlich"],
    "Naher Osten": ["nahöstlich"],
    "Mittlerer Osten": ["mittelöstlich"],
    "Persien": ["persisch"],
    "Arabien": ["arabisch"],
    "Bayern": ["bayerisch", "bairisch", "bayrisch"],
    "Sachsen": ["sächsisch"],
    "Hessen": ["hessisch"],
    "Thüringen": ["thüringisch"],
    "Westfalen": ["westfälisch"],
    "Brandenburg": ["brandenburgisch"],
    "Schwaben": ["schwäbisch"],
    "Krim": ["krimtatarisch"],
    "Griechenland": ["griechisch"],
    "Niedersachsen": ["niedersächsisch"],
    "Baden-Württemberg": ["baden-württembergisch"],
    "Nordrhein-Westfalen": ["nordrhein-westfälisch"],
    "Rheinland-Pfalz": ["rheinland-pfälzisch"],
    "Schleswig-Holstein": ["schleswig-holsteinisch"],
    "Mecklenburg-Vorpommern": ["mecklenburg-vorpommerisch", "mecklenburgisch"],
    "Sachsen-Anhalt": ["sachsen-anhaltisch"],
    "Westeuropa": ["westeuropäisch"],
    "Osteuropa": ["osteuropäisch"],
    "Mitteleuropa": ["mitteleuropäisch"],
    "Südeuropa": ["südeuropäisch"],
    "Nordeuropa": ["nordeuropäisch"],
    "Ostasien": ["ostasiatisch"],
    "Südostasien": ["südostasiatisch"],
    "Zentralasien": ["zentralasiatisch"],
    # cities and regions whose adjective no rule gives
    "Rom": ["römisch"],
    "Venedig": ["venezianisch"],
    "Mailand": ["mailändisch"],
    "Neapel": ["neapolitanisch"],
    "Florenz": ["florentinisch"],
    "Preußen": ["preußisch"],
    "Baskenland": ["baskisch"],
    "Katalonien": ["katalanisch"],
    "Bretagne": ["bretonisch"],
    "Flandern": ["flämisch"],
    "Wales": ["walisisch"],
    "Sardinien": ["sardisch"],
    "Korsika": ["korsisch"],
    "Sizilien": ["sizilianisch"],
    "Bali": ["balinesisch"],
    "Bengalen": ["bengalisch"],
    "Kaschmir": ["kaschmirisch"],
    # German, Austrian and Swiss states, regions and cities
    "Pfalz": ["pfälzisch"],
    "Rheinland": ["rheinländisch", "rheinisch"],
    "Franken": ["fränkisch"],
    "Baden": ["badisch"],
    "Württemberg": ["württembergisch"],
    "Holstein": ["holsteinisch"],
    "Saarland": ["saarländisch"],
    "Bremen": ["bremisch"],
    "Hamburg": ["hamburgisch"],
    "Berlin": ["berlinerisch"],
    "Wien": ["wienerisch"],
    "Steiermark": ["steirisch", "steiermärkisch"],
    "Kärnten": ["kärntnerisch"],
    "Salzburg": ["salzburgisch"],
    "Vorarlberg": ["vorarlbergisch"],
    "Zürich": ["zürcherisch"],
    "Bern": ["bernisch"],
    "Basel": ["baslerisch"],
    "Graubünden": ["bündnerisch"],
    # and elsewhere
    "Vatikanstadt": ["vatikanisch"],
    "Andalusien": ["andalusisch"],
    "Toskana": ["toskanisch"],
    "Lombardei": ["lombardisch"],
    "Wallonien": ["wallonisch"],
    "Texas": ["texanisch"],
    "Kalifornien": ["kalifornisch"],
    "Hawaii": ["hawaiianisch"],
    "Ostfriesland": ["ostfriesisch"],
    "Pommern": ["pommersch"],
    "Tirol": ["tirolerisch", "tirolisch"],
}


def regular_adjectives(place: str) -> list[str]:
    """Rule-derived adjective candidates of a one-word German place name."""
    if " " in place or "-" in place:
        return []
    p = place.lower()
    out = []
    if p.endswith("istan"):
        out.append(p[:-5] + "isch")  # Usbekistan -> usbekisch, Afghanistan -> afghanisch
        out.append(p[:-4] + "isch")  # Kasachstan -> kasachisch
        out.append(p + "isch")  # Pakistan -> pakistanisch
    elif p.endswith("stan"):
        out.append(p[:-4] + "isch")
    elif p.endswith("land"):
        out.append(p[:-4] + "isch")  # Russland -> russisch, Finnland -> finnisch
        out.append(p[:-4] + "ländisch")  # Thailand -> thailändisch
    elif p.endswith("ien"):
        out.append(p[:-3] + "isch")  # Spanien -> spanisch, Syrien -> syrisch
        out.append(p[:-3] + "ianisch")  # Brasilien -> brasilianisch
    elif p.endswith("ei"):
        out.append(p[:-2] + "isch")  # Türkei -> türkisch
    elif p.endswith("en"):
        out.append(p[:-2] + "isch")  # Schweden -> schwedisch, Ägypten -> ägyptisch
    elif p.endswith("ia"):
        out.append(p[:-2] + "isch")  # Somalia -> somalisch, Sambia -> sambisch
        out.append(p[:-1] + "anisch")  # Nigeria -> nigerianisch
        out.append(p[:-1] + "isch")
    elif p.endswith(("a", "o")):
        out.append(p[:-1] + "anisch")  # Nordkorea -> nordkoreanisch, Mexiko -> mexikanisch
        out.append(p[:-1] + "isch")  # Kanada -> kanadisch, Uganda -> ugandisch
    elif p.endswith("e"):
        out.append(p[:-1] + "isch")  # Ukraine -> ukrainisch
    elif p.endswith("n") and not p.endswith("en"):
        out.append(p[:-1] + "isch")  # Ungarn -> ungarisch
        out.append(p + "isch")  # Japan -> japanisch, Iran -> iranisch
    else:
        out.append(p + "isch")  # Irak -> irakisch, Israel -> israelisch, Luxemburg
    return out


def build() -> list[tuple[str, str, str]]:
    from babel import Locale

    names = {
        code: name
        for code, name in Locale("de").territories.items()
        if len(code) == 2 and code.isalpha() and code not in _SKIP_CODES
    }
    rows: dict[str, tuple[str, str]] = {}
    seen: dict[str, set[str]] = {}
    for name in sorted(names.values()):
        for adj in regular_adjectives(name):
            seen.setdefault(adj, set()).add(name)
    for adj, places in sorted(seen.items()):
        if len(places) == 1:
            rows[adj] = (next(iter(places)), "rule")
    for place, adjs in IRREGULAR.items():
        for adj in adjs:
            rows[adj.lower()] = (place, "listed")
    return sorted((adj, place, src) for adj, (place, src) in rows.items())


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["adjective", "place", "source"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
