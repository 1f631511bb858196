import pytest

from prompts import PromptError, load_prompts, prompts


def test_every_template_loads_in_both_languages_with_a_version():
    prompt_set = prompts()
    assert prompt_set.version
    assert prompt_set.get("abstain", "en") == "The source does not say."
    assert prompt_set.get("abstain", "zh") == "来源中没有提及。"
    assert prompt_set.render("quote", "en", passage="A.", markers="[1]") == "A. [1]"


def _copy_prompts(tmp_path):
    import shutil

    from prompts import PROMPTS_DIR

    target = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_wrong_placeholder_fails_at_load_naming_the_file(tmp_path):
    directory = _copy_prompts(tmp_path)
    (directory / "templates" / "zh" / "quote.txt").write_text("{passage}{marker}", encoding="utf-8")
    with pytest.raises(PromptError, match=r"zh/quote\.txt: placeholders \['marker', 'passage'\]"):
        load_prompts(directory)


def test_a_missing_template_fails_at_load(tmp_path):
    directory = _copy_prompts(tmp_path)
    (directory / "templates" / "en" / "abstain.txt").unlink()
    with pytest.raises(PromptError, match="abstain.*missing"):
        load_prompts(directory)
