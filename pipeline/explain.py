"""Why an entity holds what it holds: ``pipeline explain RUN_DIR QUERY`` and
``Result.explain(query)``.

The query is an entity id (``PER:wladimir-putin``) or a name, matched case- and
accent-insensitively against canonical names and aliases ("putin", "Pütin" and "PUTIN"
find Wladimir Putin). For each matching entity the report lists its names with their
mention counts and the rules that attached them, every link that joined two of its
names (rule, score, evidence: how many mentions, and up to five of their ids), and every
link a constraint refused (with the reason), so an analyst can see which link made a
wrong merge and which merge was kept out.
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from .errors import InputError

__all__ = ["fold_query", "find_entities", "explain_entities"]


def fold_query(text: str) -> str:
    """Case- and accent-insensitive form of a name: ``"Müller"`` -> ``"muller"``.

    >>> fold_query("  Wladimir PÜTIN ")
    'wladimir putin'
    """
    decomposed = unicodedata.normalize("NFKD", str(text).replace("ß", "ss").replace("ẞ", "ss"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def find_entities(entities: pd.DataFrame, query: str) -> pd.DataFrame:
    """Entities whose id equals ``query``, else whose canonical name or an alias matches
    it case- and accent-insensitively (most mentions first)."""
    hit = entities[entities["entity_id"] == query]
    if len(hit):
        return hit
    q = fold_query(query)
    if not q:
        return entities.iloc[0:0]
    mask = [fold_query(c) == q or any(fold_query(a) == q for a in aliases)
            for c, aliases in zip(entities["canonical_name"], entities["aliases"])]
    return entities[mask].sort_values(["n_mentions", "entity_id"], ascending=[False, True])


def _fmt_evidence(n: int, ids: list[str] | None) -> str:
    ids = list(ids or [])
    more = f", +{n - len(ids)} more" if n > len(ids) else ""
    return f"{n} mention{'s' if n != 1 else ''}" + (f": {', '.join(ids)}{more}" if ids else "")


def explain_entities(entities: pd.DataFrame, mentions: pd.DataFrame, links: pd.DataFrame, query: str,
                     max_entities: int = 5) -> str:
    """The report for ``query`` (see the module docstring); InputError when nothing matches."""
    hits = find_entities(entities, query)
    if hits.empty:
        raise InputError(f"no entity matches {query!r} (give an entity id such as PER:wladimir-putin, "
                         "or a name as it appears in the text)")
    out: list[str] = []
    for _, e in hits.head(max_entities).iterrows():
        eid = e["entity_id"]
        flags = list(e.get("qc_flags") or []) if "qc_flags" in e else []
        out.append(f"{eid}  {e['label']}  {e['canonical_name']!r}: {e['n_mentions']} mentions in "
                   f"{e['n_docs']} documents" + (f"  [check: {', '.join(flags)}]" if flags else ""))
        m = mentions[mentions["entity_id"] == eid]
        if len(m):
            rules = (m.assign(rule=m["link_rule"].fillna("-"))
                     .groupby(["text", "kind"])
                     .agg(n=("mention_id", "size"), rules=("rule", lambda r: ", ".join(sorted(set(r)))))
                     .reset_index().sort_values(["n", "text"], ascending=[False, True]))
            out.append("  names (mentions, kind, rules that attached them):")
            for _, r in rules.head(30).iterrows():
                out.append(f"    {r['n']:>6}  {r['text']!r}  {r['kind']}  {r['rules']}")
            if len(rules) > 30:
                out.append(f"    ... and {len(rules) - 30} more names")
            if "model_label" in m:
                other = m[m["model_label"].notna() & (m["model_label"] != m["label"])]
                if len(other):
                    counts = other["model_label"].value_counts().to_dict()
                    out.append(f"  relabelled by the corpus vote: {len(other)} mentions the model read as "
                               + ", ".join(f"{k} ({v})" for k, v in counts.items()))
            if "affiliation" in m and m["affiliation"].notna().any():
                aff = m["affiliation"].dropna().value_counts().head(5).to_dict()
                out.append("  affiliations in brackets: " + ", ".join(f"{k} ({v})" for k, v in aff.items()))
        joined = links[(links["decision"] == "merged") & (links["entity_a"] == eid)]
        if len(joined):
            out.append("  links that joined its names (rule, score, evidence):")
            for _, r in joined.iterrows():
                out.append(f"    {r['name_b']!r} -> {r['name_a']!r}  {r['rule']}  {r['score']:.2f}  "
                           f"({_fmt_evidence(int(r['n_evidence']), r['evidence'])})")
        refused = links[(links["decision"] == "refused") & ((links["entity_a"] == eid) | (links["entity_b"] == eid))]
        if len(refused):
            out.append("  merges refused (kept apart):")
            for _, r in refused.iterrows():
                out.append(f"    {r['name_a']!r} ({r['entity_a']}) x {r['name_b']!r} ({r['entity_b']})  "
                           f"{r['rule']}: {r['reason']}  ({_fmt_evidence(int(r['n_evidence']), r['evidence'])})")
        if not len(joined) and not len(refused):
            out.append("  no link between name keys: the names above were attached mention by mention, "
                       "by the rules shown")
    if len(hits) > max_entities:
        out.append(f"... and {len(hits) - max_entities} more entities match {query!r}")
    return "\n".join(out)
