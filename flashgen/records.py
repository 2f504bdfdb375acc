"""Records: how the frozen, slotted dataclasses that cross process boundaries are pickled.

Worker processes send their results encoded as the cache stores them (see `state`, which never
unpickles anything), and pickled only when that fails (a file name that is not UTF-8), in
memory. For a slotted dataclass, Python pickles field by field through `dataclasses`' own
state functions, which look up the fields anew for every object; 180,000 cards spent about
2 s there. Pickled by value instead, an object is its class and a tuple of its fields, and is
made again through `__init__`: the same object, about twice as fast both ways.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def by_value(cls: type[T]) -> type[T]:
    """Class decorator: pickle instances of the dataclass `cls` as `cls(*values)`."""
    found = fields(cls)  # type: ignore[arg-type]
    if any(not f.init for f in found):
        raise TypeError(f"{cls.__name__}: a field outside __init__ cannot be pickled by value")
    names = [f.name for f in found]
    get: Callable[[Any], Any] = operator.attrgetter(*names)
    values: Callable[[Any], tuple[Any, ...]] = get if len(names) > 1 else (lambda obj: (get(obj),))

    def __reduce__(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls
