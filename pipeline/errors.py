"""The project's exception types. Messages say what went wrong and what to do.

Every failure outside a single document is a :class:`PipelineError`; its ``exit_code``
is what the CLI exits with: 2 for usage and configuration problems (bad options, config,
input, model, an output path that can never work), 3 for problems of the environment
(permissions, a full disk, another run holding the output folder's lock is 2: a usage
conflict). Exit 1 is reserved for "the run finished but some documents failed".
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class of every error the pipeline raises on purpose."""

    exit_code = 2


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


class OutputPathError(PipelineError):
    """The output path can never work (an existing file, the current directory, an
    ancestor of the input, a system folder) or may not be replaced by ``--force``."""


class OutputLockedError(PipelineError):
    """Another run holds the output folder's lock."""


class BrokenRunError(PipelineError):
    """A run folder's table or checkpoint is missing, truncated or edited beyond reading."""


class EnvironmentProblem(PipelineError):
    """The machine refused: no permission, disk full, a read-only file system."""

    exit_code = 3
