"""The CI gate: compare measured figures with the versioned thresholds in gate.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

GATE_PATH = Path(__file__).resolve().with_name("gate.toml")


class SetThresholds(BaseModel):
    min: dict[str, float] = Field(default_factory=dict, description="Fail when a figure is below its value.")
    max: dict[str, float] = Field(default_factory=dict, description="Fail when a figure is above its value.")


class GateConfig(BaseModel):
    version: str
    sets: dict[str, SetThresholds]


class GateFailure(BaseModel):
    metric: str
    value: float | None
    threshold: float
    bound: str

    def message(self) -> str:
        if self.value is None:
            return f"{self.metric} was not measured (threshold {self.bound} {self.threshold:g})"
        relation = "below the minimum" if self.bound == "min" else "above the maximum"
        return f"{self.metric} = {self.value:.4g} is {relation} {self.threshold:g}"


def load_gate(path: Path = GATE_PATH) -> GateConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read the gate thresholds ({error.strerror}).") from error
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error}).") from error
    version = data.pop("version", None)
    try:
        return GateConfig(version=version, sets=data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"] if part != "sets")
        raise ValueError(f"{path}: {where}: {problem['msg']}; see the comments at the top of the file.") from error


def check(figures: dict[str, float | None], thresholds: SetThresholds) -> list[GateFailure]:
    """Every threshold the figures break; a threshold whose metric is missing counts as broken."""
    failures = []
    for bound, limits in (("min", thresholds.min), ("max", thresholds.max)):
        for metric, threshold in limits.items():
            value = figures.get(metric)
            broken = value is None or (value < threshold if bound == "min" else value > threshold)
            if broken:
                failures.append(GateFailure(metric=metric, value=value, threshold=threshold, bound=bound))
    return failures
