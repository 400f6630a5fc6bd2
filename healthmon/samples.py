"""Sample: one layer's values at one collection time, read-only, checked against the metric catalog.

Every layer the collection loop builds (the collectors', model, service, quality, score, baseline) is a `Sample`;
rings hold them and the store persists them. A sample reads like the dict it was built from (`sample["cpu_usage"]`,
`sample.get(...)`, iteration over its keys), so a layer's consumer needs no new vocabulary, but it cannot be
changed after the fact: a ring shares it with every page without copying.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from healthmon import catalog

# Fields of a layer's sample that are facts rather than metrics, so the catalog does not declare them: the GPU
# layer's device list (its entries are the catalog's "gpu_device" metrics) and why no GPU could be read.
FACTS: Mapping[str, frozenset[str]] = MappingProxyType({"gpu": frozenset({"devices", "reason"})})
_PER_GPU = re.compile(r"gpu\d+_(?P<field>.+)")
_BASELINE = re.compile(r"(?P<metric>.+)_baseline_(?:low|high)")


@dataclass(frozen=True, eq=False)
class Sample(Mapping[str, Any]):
    """`layer`'s values at `timestamp_s` (unix seconds); `metrics` is a read-only copy of what was passed in."""

    layer: str
    timestamp_s: float
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.layer, str) or not self.layer:
            raise ValueError(f"a sample needs a layer name, got {self.layer!r}")
        if isinstance(self.timestamp_s, bool) or not isinstance(self.timestamp_s, (int, float)) \
                or not math.isfinite(self.timestamp_s):
            raise ValueError(f"a sample's timestamp_s must be a finite number, got {self.timestamp_s!r}")
        object.__setattr__(self, "timestamp_s", float(self.timestamp_s))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    def __getitem__(self, key: str) -> Any:
        return self.metrics[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __repr__(self) -> str:
        return f"Sample({self.layer!r}, {self.timestamp_s!r}, {dict(self.metrics)!r})"

    def undeclared(self) -> frozenset[str]:
        """The keys the catalog does not declare for this layer (see `undeclared_keys`)."""
        return undeclared_keys(self.layer, self.metrics)


def undeclared_keys(layer: str, keys: Iterable[str]) -> frozenset[str]:
    """Keys of `layer` that neither the catalog nor its derived families explain.

    Derived, so not declared one by one: a GPU's own copy `gpu<i>_<x>` of the all-GPU metric `gpu_<x>`, and a
    learned band `<metric>_baseline_low|high` of a metric a rule may watch. A layer the catalog does not know (a
    collector of a user's own) has every key undeclared.
    """
    declared, alertable = _declared(layer), _alertable()

    def explained(key: str) -> bool:
        if not isinstance(key, str):  # a collector's {0: …} is no metric name: the store refuses it too
            return False
        if key in declared:
            return True
        if layer == "gpu" and (per_gpu := _PER_GPU.fullmatch(key)):
            return "gpu_" + per_gpu["field"] in declared
        if layer == "baseline" and (band := _BASELINE.fullmatch(key)):
            return band["metric"] in alertable
        return False

    return frozenset(key for key in keys if not explained(key))


@functools.cache
def _declared(layer: str) -> frozenset[str]:
    return frozenset(spec.key for spec in catalog.by_layer(layer)) | FACTS.get(layer, frozenset())


@functools.cache
def _alertable() -> frozenset[str]:
    return frozenset(catalog.alertable())
