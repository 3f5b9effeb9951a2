"""The project's exception types. Messages say what went wrong and what to do."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class ConfigError(PipelineError):
    """A configuration file, key or value is invalid. Raised before any text is read."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(self.problems))


class ModelNotFoundError(PipelineError):
    """The requested NER model is neither bundled, installed nor a path."""


class InputError(PipelineError):
    """The input cannot be read as a whole (missing path, unknown format, bad columns)."""


class OutputExistsError(PipelineError):
    """The output directory holds a previous run and --force/--resume was not given."""
