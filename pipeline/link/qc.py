"""Quality flags of linked entities: what an analyst should look at first.

``qc_flags(mentions, entities)`` gives, per entity row, a list of flags:

``several_full_names``   the entity holds two person full names that no comparison level
                         explains ("Gerardo Hernández" / "Gerardo Hernández Nordelo",
                         names joined by an analyst merge or an earlier run)
``mixed_labels``         the NER model gave its name mentions different labels: besides the
                         entity's label another one holds at least ``MIXED_SHARE`` of them
``lowercase_canonical``  the canonical name has no capital letter ("taz", "niedersächsisch")
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from .compare import names_compatible
from .keys import translit_key

SEVERAL_FULL_NAMES = "several_full_names"
MIXED_LABELS = "mixed_labels"
LOWERCASE_CANONICAL = "lowercase_canonical"

#: share of an entity's name mentions another model label must hold to flag it
MIXED_SHARE = 0.1


def qc_flags(mentions: pd.DataFrame, entities: pd.DataFrame) -> pd.Series:
    """One list of flags per row of ``entities`` (same index), see the module docstring.

    ``mentions`` needs entity_id, label, kind and key, and ``model_label`` for the
    mixed-labels flag (without it the flag is never set). It may be mentions counted
    by those columns: an optional column ``n`` holds each row's number of mentions.
    """
    flags: dict[str, list[str]] = {}
    if len(mentions):
        cols = [c for c in ("entity_id", "label", "kind", "key", "model_label") if c in mentions.columns]
        sub = mentions[cols].assign(n=mentions["n"].to_numpy() if "n" in mentions.columns else 1)
        names = sub[sub["kind"].to_numpy(dtype=object) != "deriv"]
        # several full person names (translit keys of two or more tokens)
        per = names[names["label"].to_numpy(dtype=object) == "PER"]
        pk = per[["entity_id", "key"]].dropna().drop_duplicates()
        pk = pk[[" " in str(k) for k in pk["key"].tolist()]]
        if len(pk):
            multi = pk[pk.duplicated("entity_id", keep=False)]
            for eid, keys in multi.groupby("entity_id", sort=False)["key"]:
                tk = sorted({translit_key(str(k)) for k in keys})
                if any(not names_compatible(a, b) for a, b in combinations(tk, 2)):
                    flags.setdefault(str(eid), []).append(SEVERAL_FULL_NAMES)
        # mixed model labels
        if "model_label" in names.columns and len(names):
            own = names["label"].to_numpy(dtype=object)
            ml = names["model_label"].to_numpy(dtype=object)
            ml = np.where(pd.isna(ml), own, ml)
            diff = ml != own
            c = pd.DataFrame({"e": names["entity_id"].to_numpy(dtype=object)[diff], "l": ml[diff],
                              "n": names["n"].to_numpy()[diff]})
            if len(c):
                other = c.groupby(["e", "l"], sort=False)["n"].sum().groupby(level=0).max()
                total = names.groupby("entity_id", sort=False)["n"].sum()
                share = other / total.reindex(other.index).to_numpy()
                for eid in share.index[share.to_numpy() >= MIXED_SHARE].tolist():
                    flags.setdefault(str(eid), []).append(MIXED_LABELS)
    canon = entities["canonical_name"].fillna("").astype(str)
    lower = np.array([not any(ch.isupper() for ch in s) for s in canon], dtype=bool)
    out = []
    for eid, low in zip(entities["entity_id"].astype(str).tolist(), lower.tolist()):
        f = list(flags.get(eid, ()))
        if low:
            f.append(LOWERCASE_CANONICAL)
        out.append(f)
    return pd.Series(out, index=entities.index, dtype=object)
