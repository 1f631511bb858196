"""User-facing templates, loaded once from files and checked against `manifest.toml`.

A template whose placeholders differ from the manifest fails at load, naming the
file, so a typo never reaches a user as a literal "{quotes}". JSON data files (the
generative answer's schema and worked examples) are checked the same way: each must
parse and hold the top-level keys the manifest names.
"""

from __future__ import annotations

import json
import string
import tomllib
from dataclasses import dataclass, field
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
    data: dict[tuple[str, str], dict] = field(default_factory=dict)
    """JSON data files by (name, language); language "" for files shared by all languages."""

    def get(self, name: str, language: Language) -> str:
        """The template in `language`, falling back to English where only English exists."""
        return self.templates.get((name, language)) or self.templates[(name, "en")]

    def render(self, name: str, language: Language, **values: str) -> str:
        return self.get(name, language).format(**values)

    def get_data(self, name: str, language: Language | None = None) -> dict:
        """A JSON data file: the language's own, else English, else the shared one."""
        for key in ((name, language), (name, "en"), (name, "")):
            if key in self.data:
                return self.data[key]
        raise KeyError(f"no prompt data file named {name!r}; declare it under [data] in {PROMPTS_DIR / 'manifest.toml'}")


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
    data: dict[tuple[str, str], dict] = {}
    for name, spec in manifest.get("data", {}).items():
        # Per-language files sit beside the templates; a file shared by all languages in data/.
        places = [(language, directory / "templates" / language / f"{name}.json") for language in spec["languages"]] if "languages" in spec else [("", directory / "data" / f"{name}.json")]
        for language, path in places:
            data[(name, language)] = _load_json(path, set(spec.get("keys", [])))
    return PromptSet(version=str(manifest["version"]), templates=templates, data=data)


def _load_json(path: Path, keys: set[str]) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PromptError(f"{path}: data file is missing; add the file.") from error
    except json.JSONDecodeError as error:
        raise PromptError(f"{path}: not valid JSON ({error}).") from error
    if not isinstance(value, dict) or not keys <= value.keys():
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise PromptError(f"{path}: needs the top-level keys {sorted(keys)}; found {found}.")
    return value


@lru_cache(maxsize=1)
def prompts() -> PromptSet:
    """The project's templates, loaded once per process."""
    return load_prompts()
