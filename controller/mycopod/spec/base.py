"""The base of every spec model: frozen, strict keys, and a record of what was stated. Pure.

"What a declaration states is managed; what it leaves out is the owner's." Each model's
``model_fields_set`` (see :func:`stated`) holds exactly the settings the text stated:
a value given as ``None`` is not stated, and neither is an empty list for a field listed
in ``_EMPTY_IS_UNSTATED`` (a CD-ROM list, CPU flags: ``[]`` is what the printed contract
shows when the text says nothing). Defaults that validation fills in are never stated.
The stored form of a spec keeps only stated values (``exclude_unset``), so a spec read
back from the database manages exactly what the text said.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    #: list fields whose ``[]`` means "not stated" (the others: "stated: none")
    _EMPTY_IS_UNSTATED: ClassVar[frozenset[str]] = frozenset()
    #: fields that identify the part (a device's slot): always recorded as stated
    _ALWAYS_STATED: ClassVar[frozenset[str]] = frozenset({"slot"})

    @model_validator(mode="wrap")
    @classmethod
    def _record_stated(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, cls):
            fields, always = _names(cls)
            empty_is_unstated = cls._EMPTY_IS_UNSTATED
            given = {
                key for key, value in data.items()
                if key in fields and value is not None
                and not (value == [] and key in empty_is_unstated)
            }
            object.__setattr__(model, "__pydantic_fields_set__", given | always)
        return model


@functools.cache
def _names(cls: type[SpecModel]) -> tuple[frozenset[str], frozenset[str]]:
    """A model's field names, and those always recorded as stated (read once per model:
    every guest of a file is validated, and each of its disks and network cards)."""
    fields = frozenset(cls.model_fields)
    return fields, cls._ALWAYS_STATED & fields


def stated(model: BaseModel) -> frozenset[str]:
    """The fields the text stated (managed); every other field is the owner's."""
    return frozenset(model.model_fields_set)
