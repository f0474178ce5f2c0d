"""A valid sample of every payload type, built from its schema, for tests that walk the
whole catalogue. Free text is marked ``secret-<field>`` so a test can see where it goes."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID, uuid4

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

PATTERNS = {
    r"^\d{2}$": "03",
    r"^\d{3}$": "005",
    r"^[0-9a-f]{64}$": "c0ffee" * 10 + "c0de",
    r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$": "2026-11",
    r"^[A-Za-z0-9+/]{43}=$": "3q2+7w" + "A" * 37 + "=",  # a checkpoint's root, base64
}
WHEN = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)


def sample(model: type[BaseModel]) -> BaseModel:
    values = {name: _value(name, f.annotation, f) for name, f in model.model_fields.items()}
    return model.model_validate(values)


def _value(name: str, annotation: Any, info: FieldInfo | None = None) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        return _value(name, arms[0], info)  # the optional one filled: it must not leak either
    if origin is Literal:
        return get_args(annotation)[0]
    if origin is tuple:
        item, *rest = get_args(annotation)
        if rest == [Ellipsis]:
            return [_value(name, item)]
        return [_value(name, a) for a in get_args(annotation)]
    if origin is dict:
        return {"secret_key": f"secret-{name}"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample(annotation).model_dump(mode="json")
    if annotation is UUID:
        return str(uuid4())
    if annotation is datetime:
        return WHEN.isoformat()
    if annotation is date:
        return WHEN.date().isoformat()
    if annotation is bool:
        return True
    if annotation is float:
        return -6.309812
    if annotation is int:
        return _int(info)
    if annotation is str:
        pattern = next((m.pattern for m in (info.metadata if info else []) if _has(m)), None)
        return PATTERNS[pattern] if pattern else f"secret-{name}"
    raise TypeError(f"no sample for {name}: {annotation!r}")


def _has(meta: Any) -> bool:
    return bool(getattr(meta, "pattern", None))


def _int(info: FieldInfo | None) -> int:
    low, high = 0, 10**6
    for meta in info.metadata if info else []:
        if isinstance(meta, Ge):
            low = max(low, int(meta.ge))  # type: ignore[call-overload]
        elif isinstance(meta, Gt):
            low = max(low, int(meta.gt) + 1)  # type: ignore[call-overload]
        elif isinstance(meta, Le):
            high = min(high, int(meta.le))  # type: ignore[call-overload]
        elif isinstance(meta, Lt):
            high = min(high, int(meta.lt) - 1)  # type: ignore[call-overload]
    return max(low, min(high, 7))
