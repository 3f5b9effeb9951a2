"""German news entity extraction: read -> normalize -> NER -> link -> write.

Public API::

    from pipeline import run, load
    result = run(["Wladimir Putin traf Kim Jong Un."])
    result.entities
"""

__version__ = "0.1.0"

# the submodule pipeline.run is imported first so that importing it later (the API does)
# cannot rebind ``pipeline.run`` from the function to the module
from . import run as _run_module  # noqa: E402,F401
from .api import Result, load, run  # noqa: E402

__all__ = ["run", "load", "Result", "__version__"]
