"""Entity linking: name keys, blocking, comparison levels, clustering -> entity ids.

Public API::

    from pipeline.link import link, load_aliases
    linked, entities = link(mentions, cfg.link, previous_entities=prev, aliases=aliases)

The modules are pure and testable without spaCy: ``keys`` (string -> key),
``compare`` (comparison levels, blocking, partial names), ``cluster`` (union-find with
cannot-link, link explanations), ``aliases`` (countries, place adjectives, alias file),
``qc`` (quality flags of entities).
"""

from .aliases import load_aliases
from .linker import link
from .qc import qc_flags

__all__ = ["link", "load_aliases", "qc_flags"]
