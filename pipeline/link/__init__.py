"""Entity linking: name keys, blocking, comparison levels, clustering -> entity ids.

Public API::

    from pipeline.link import link, load_aliases
    linked, entities = link(mentions, cfg.link, previous_entities=prev, aliases=aliases)
    result = link_parts(parquet_paths, cfg.link, out_dir)   # memory: distinct names + one part

The modules are pure and testable without spaCy: ``keys`` (string -> key),
``compare`` (comparison levels, blocking, partial names), ``cluster`` (union-find with
cannot-link, link explanations), ``aliases`` (countries, place adjectives, alias file),
``qc`` (quality flags of entities).
"""

from .aliases import load_aliases
from .linker import MentionParts, link, link_parts
from .qc import qc_flags

__all__ = ["MentionParts", "link", "link_parts", "load_aliases", "qc_flags"]
