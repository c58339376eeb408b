"""Build frozen settings dataclasses from TOML tables, refusing bad keys by name.

A settings class declares its TOML keys as dataclass fields (defaults only there) and checks
values in ``__post_init__``, raising :class:`ConfigError` whose message starts with the key
(``"qos must be 0, 1 or 2: got 3"``). :func:`build` type-checks the table, resolves path fields
against the config file's folder and prefixes every message with where the table sits
(``"mqtt.qos must be ..."``), so the operator sees the full key.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from idleshare.errors import ConfigError

T = TypeVar("T")

#: Field metadata marking a file path, resolved relative to the config file's folder.
PATH: Mapping[str, bool] = {"path": True}
#: Field metadata marking a field set by the loader, never read from TOML.
INTERNAL: Mapping[str, bool] = {"internal": True}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def fail(key: str, reason: str, got: object) -> typing.NoReturn:
    """Raise the conventional ``"<key> <reason>: got <value>"`` error."""
    raise ConfigError(f"{key} {reason}: got {got!r}")


def toml_keys(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


def _check_scalar(key: str, expected: type, value: object) -> object:
    # TOML integers are fine where a number is expected; booleans are not numbers here.
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and expected is not bool:
        fail(key, f"must be {_TYPE_NAMES[expected]}", value)
    if not isinstance(value, expected):
        fail(key, f"must be {_TYPE_NAMES[expected]}", value)
    return value


def _coerce(key: str, hint: Any, value: object) -> object:
    origin = typing.get_origin(hint)
    if origin is dict:
        _, value_type = typing.get_args(hint)
        if not isinstance(value, Mapping):
            fail(key, "must be a table", value)
        return {str(k): _check_scalar(f"{key}.{k}", value_type, v) for k, v in value.items()}
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list | tuple):
            fail(key, "must be an array", value)
        return tuple(_check_scalar(f"{key}[{i}]", item_type, v) for i, v in enumerate(value))
    if hint in _TYPE_NAMES:
        return _check_scalar(key, hint, value)
    return value


def build(
    cls: type[T],
    table: Mapping[str, Any],
    where: str,
    base_dir: Path | None = None,
    internal: Mapping[str, Any] | None = None,
) -> T:
    """Make ``cls`` from a TOML ``table`` found at ``where`` (e.g. ``"assets[0].replay"``)."""
    prefix = f"{where}." if where else ""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table: got {table!r}")
    allowed = toml_keys(cls)
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]} is not a known key: expected one of {allowed}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = dict(internal or {})
    spec = dataclasses.fields(typing.cast(Any, cls))  # T is bound to no protocol: any dataclass
    for f in spec:
        if f.name not in table:
            continue
        value = _coerce(prefix + f.name, hints[f.name], table[f.name])
        if f.metadata.get("path") and value and base_dir is not None:
            value = str(base_dir / Path(str(value)).expanduser())
        kwargs[f.name] = value
    missing = [
        f.name for f in spec
        if f.name not in kwargs
        and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{prefix}{missing[0]} is required")
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise ConfigError(f"{prefix}{err}") from None
