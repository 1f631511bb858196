"""User-facing templates, loaded once from files and checked against `manifest.toml`.

A template whose placeholders differ from the manifest fails at load, naming the
file, so a typo never reaches a user as a literal "{quotes}".
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.documents import Language

PROMPTS_DIR = Path(__file__).resolve().parent
LANGUAGES: tuple[Language, ...] = ("en", "zh")


class PromptError(ValueError):
    """A template file is missing or its placeholders do not match the manifest."""


@dataclass(frozen=True)
class PromptSet:
    version: str
    templates: dict[tuple[str, str], str]

    def get(self, name: str, language: Language) -> str:
        """The template in `language`, falling back to English where only English exists."""
        return self.templates.get((name, language)) or self.templates[(name, "en")]

    def render(self, name: str, language: Language, **values: str) -> str:
        return self.get(name, language).format(**values)


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def load_prompts(directory: Path = PROMPTS_DIR) -> PromptSet:
    manifest_path = directory / "manifest.toml"
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PromptError(f"{manifest_path}: cannot read the prompt manifest ({error}).") from error
    templates: dict[tuple[str, str], str] = {}
    for name, spec in manifest["templates"].items():
        expected = set(spec.get("placeholders", []))
        for language in spec.get("languages", LANGUAGES):
            path = directory / "templates" / language / f"{name}.txt"
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise PromptError(f"{path}: template '{name}' ({language}) is missing; add the file.") from error
            found = _placeholders(text)
            if found != expected:
                raise PromptError(
                    f"{path}: placeholders {sorted(found)} do not match the manifest's {sorted(expected)}."
                )
            templates[(name, language)] = text
    return PromptSet(version=str(manifest["version"]), templates=templates)


@lru_cache(maxsize=1)
def prompts() -> PromptSet:
    """The project's templates, loaded once per process."""
    return load_prompts()
