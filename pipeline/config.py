"""Typed configuration: defaults from ``configs/default.toml``, file merges, ``--set``
overrides, validation that collects every problem, and a stable hash."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError


def configs_dir() -> Path:
    """The folder holding default.toml: the repo's ``configs/`` in a checkout or editable
    install, else the copy packaged as ``pipeline.configs``."""
    repo = Path(__file__).resolve().parents[1] / "configs"
    if (repo / "default.toml").exists():
        return repo
    return Path(str(resources.files("pipeline.configs")))


class _Section(BaseModel):
    # strict: a boolean is not a number and a number is not a boolean
    # (`ner.blas_threads = false` must not mean "all cores")
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)


class InputConfig(_Section):
    glob: str = Field(min_length=1)
    text_col: str = Field(min_length=1)
    id_col: str
    encoding: str
    max_control_ratio: float = Field(ge=0.0, le=1.0)
    html: Literal["strip", "flag", "keep"]
    strict: bool
    duplicate_ids: Literal["error", "suffix"]
    date_line: bool
    #: other columns of a table input kept in documents: ["*"] all, or the ones named
    keep_cols: list[str] = Field(default_factory=lambda: ["*"])
    #: the column of a table input parsed into documents.date ("" = none)
    date_col: str = "date"
    #: folder inputs: a sidecar table (.jsonl/.csv/.parquet) with a doc_id column whose
    #: other columns are kept in documents ("" = none)
    meta_file: str = ""
    follow_outside_symlinks: bool

    @field_validator("encoding")
    @classmethod
    def _known_text_encoding(cls, v: str) -> str:
        if v == "auto":
            return v
        import codecs

        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r} (use \"auto\" or a codec such as \"cp1252\")") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{v!r} is not a text encoding (use \"auto\" or a codec such as \"cp1252\")")
        return v


class NormalizeConfig(_Section):
    unicode_nfc: bool
    spaces: bool
    soft_hyphens: bool
    quotes: bool
    dashes: bool
    mojibake: bool


class NerConfig(_Section):
    model: str = Field(min_length=1)
    batch_size: int = Field(ge=1, le=4096)
    max_chunk_chars: int = Field(ge=1000)
    derivs: bool
    #: a lower-case derived adjective is kept only where a place is found it derives
    #: from (the place adjective table, a country or region, a place the document names)
    derivs_need_place: bool = True
    parts: bool
    propagate: bool
    gemm: Literal["numpy", "blis"] = "numpy"
    blas_threads: int = Field(default=1, ge=0, le=1024)
    #: "vectorised": ner/decode.py decodes all documents of a batch at once (the same
    #: entities, about 9x faster); "spacy": spaCy's own per-token loop
    decoder: Literal["vectorised", "spacy"] = "vectorised"
    #: embedding rows kept across batches (ner/dedup.py; 512 bytes each), 0 = none
    embed_cache_words: int = Field(default=50_000, ge=0, le=10_000_000)
    batch_tokens: int = Field(default=10_000, ge=1000, le=10_000_000)
    max_work_per_char: float = Field(default=50.0, gt=0, le=1_000_000)
    #: document-level person names: surnames alone after the full name, particles,
    #: role words glued before a name (postprocess.split_roles/extend_surnames)
    surnames: bool = True
    #: corpus-level second pass (ner/corpus_pass.py): names found in at least
    #: corpus_min_docs documents are looked up in the others
    corpus_pass: bool = True
    corpus_min_docs: int = Field(default=2, ge=2, le=1_000_000)


class LinkConfig(_Section):
    cross_document: bool
    link_derivs: bool
    country_aliases: bool
    abbreviations: bool
    aliases_file: str
    fuzzy_threshold: float = Field(ge=0, le=100)
    previous_entities: str
    #: a bare head noun joins the one "place adjective/country code + head" name of its
    #: label it is mentioned with ("Bundestag" / "Deutscher Bundestag", "Dollar" / "US-Dollar")
    head_nouns: bool = True
    #: the comparison levels applied, in this order (names of ``link.linker.LEVELS``);
    #: None = all of them in the registry's order. Unknown names fail when link() starts.
    levels: list[str] | None = None

    @field_validator("levels", mode="before")
    @classmethod
    def _split_levels(cls, v: Any) -> Any:  # --set link.levels=translit.v1,fuzzy.v1
        return [p.strip() for p in v.split(",") if p.strip()] if isinstance(v, str) else v


class OutputConfig(_Section):
    formats: list[Literal["csv", "parquet"]] = Field(min_length=1)
    batch_docs: int = Field(ge=1, le=100_000)
    #: escape CSV text cells that a spreadsheet would run as formulas (OWASP CSV injection)
    csv_escape_formulas: bool = True

    @field_validator("formats", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.split(",")
        return [p.strip().lower() if isinstance(p, str) else p for p in v if not isinstance(p, str) or p.strip()] \
            if isinstance(v, list) else v


def available_memory() -> int | None:
    """Bytes of memory this process may still use (the machine's available memory, or
    what a container's cgroup limit leaves, whichever is less); None where unknown."""
    found = []
    try:
        import psutil

        found.append(int(psutil.virtual_memory().available))
    except Exception:  # noqa: BLE001  no psutil, or no figure on this platform
        pass
    try:  # cgroup v2: memory.max ("max" = no limit) minus memory.current
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return max(0, min(found)) if found else None


def available_cores() -> int:
    """The CPU cores this process may run on (a container's or taskset's limit included)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class RunConfig(_Section):
    # how many processes tag documents: 1 = this process; N > 1 = a Dask LocalCluster of N;
    # 0 = one per available core; "auto" = this process for a small input, else one per
    # available core as far as memory allows (resolved per run: pipeline.engine.auto_workers)
    workers: Annotated[int, Field(ge=0, le=1024)] | Literal["auto"] = "auto"
    # the address of an existing Dask scheduler ("tcp://host:8786"); "" = none
    scheduler: str = ""
    # how a local cluster's worker processes start (Dask's multiprocessing method):
    # "auto" = "fork" where the platform forks safely (Linux), else "spawn"
    start_method: Literal["auto", "fork", "forkserver", "spawn"] = "auto"
    # the stages after tagging read the run's mentions in parts of about this many
    # mentions (consecutive checkpointed batches): the driver's memory follows one part
    # and the distinct names; the tables are the same whatever the size
    part_mentions: int = Field(default=250_000, ge=1)

    @field_validator("workers")
    @classmethod
    def _all_cores(cls, v: int | str) -> int | str:
        return available_cores() if v == 0 else v

    @property
    def processes(self) -> int:
        """The processes that tag: ``workers``, or 1 where "auto" was not resolved for an
        input (a run in memory, or documents that come as an iterator of unknown size)."""
        return self.workers if isinstance(self.workers, int) else 1


class QuotesConfig(_Section):
    enabled: bool


class Config(_Section):
    """The whole resolved configuration of a run."""

    input: InputConfig
    normalize: NormalizeConfig
    ner: NerConfig
    link: LinkConfig
    output: OutputConfig
    quotes: QuotesConfig
    run: RunConfig = Field(default_factory=RunConfig)
    #: folder that relative paths in the config (aliases_file, ...) are resolved against
    base_dir: str = ""

    def resolve_path(self, value: str) -> Path | None:
        if not value:
            return None
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = Path(self.base_dir or configs_dir()) / p
        return p

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"base_dir"})

    def hash(self, exclude: tuple[str, ...] = ()) -> str:
        """sha256 of the canonical JSON of every setting (not of where the file lay),
        leaving out the sections in ``exclude``."""
        data = {k: v for k, v in self.to_dict().items() if k not in exclude}
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_toml(path: Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder; give a .toml file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the config as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: dict[str, Any], where: str, problems: list[str]) -> None:
    for key, value in over.items():
        if key not in base:
            problems.append(f"{where}: unknown key {key!r} (known: {', '.join(sorted(base))})")
        elif isinstance(base[key], dict):
            if not isinstance(value, dict):
                problems.append(f"{where}: {key!r} must be a section")
            else:
                _merge(base[key], value, f"{where}.{key}" if where else key, problems)
        else:
            base[key] = value


#: settings that name files; relative values are resolved against the file that set them
PATH_KEYS = (("link", "aliases_file"), ("link", "previous_entities"))


def _absolute_paths(data: dict[str, Any], base: Path) -> None:
    for section, key in PATH_KEYS:
        sec = data.get(section)
        if isinstance(sec, dict) and isinstance(sec.get(key), str) and sec[key]:
            p = Path(sec[key]).expanduser()
            sec[key] = str(p if p.is_absolute() else (base / p).resolve())


def _parse_value(raw: str) -> Any:
    """Parse the right-hand side of ``--set key=value`` as a TOML value, else a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``["ner.batch_size=16", ...]`` -> nested dict; malformed items raise ConfigError."""
    out: dict[str, Any] = {}
    problems = []
    for item in items or []:
        key, sep, raw = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or not all(parts):
            problems.append(f"--set {item!r}: expected section.key=value")
            continue
        out.setdefault(parts[0], {})[parts[1]] = _parse_value(raw.strip())
    if problems:
        raise ConfigError(problems)
    return out


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    **sections: dict[str, Any],
) -> Config:
    """Defaults, then ``path`` merged over them, then ``overrides`` and keyword sections.

    Every unknown key and invalid value is collected and raised once as ConfigError.
    """
    defaults_path = configs_dir() / "default.toml"
    data = _read_toml(defaults_path)
    problems: list[str] = []
    base_dir = str(defaults_path.parent)
    if path is not None:
        user = _read_toml(Path(path))
        # a relative path set in a config file is relative to that file; paths the file
        # leaves alone keep their defaults (relative to configs/), so a partial config
        # never drops the default alias file
        _absolute_paths(user, Path(path).resolve().parent)
        _merge(data, user, str(path), problems)
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    overrides = copy.deepcopy(overrides) if overrides else overrides
    if overrides:
        _absolute_paths(overrides, Path.cwd())  # --set paths are relative to where you are
    for name, over in [("--set", overrides or {}), ("argument", sections)]:
        _merge(data, over, "", problems) if over else None
    if problems:
        raise ConfigError(problems)
    try:
        return Config(**data, base_dir=base_dir)
    except ValidationError as exc:
        raise ConfigError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
             for e in exc.errors()]
        ) from None


def as_config(config: Config | str | Path | dict[str, Any] | None) -> Config:
    """Accept what the API accepts: a Config, a TOML path, a nested dict or None."""
    if config is None:
        return load_config()
    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return load_config(overrides=config)
    return load_config(config)
