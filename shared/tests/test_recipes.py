"""``--config`` recipes under flags: flags win, and every bad value is one line naming where it came from."""

from dataclasses import dataclass

import pytest
from transformers import HfArgumentParser

from shared.recipes import FieldError, parse_config


class ChapterError(ValueError):
    pass


@dataclass
class Config:
    name: str = "base"
    lr: float = 1e-3
    epochs: int = 1

    def __post_init__(self):
        if self.epochs < 1:
            raise FieldError("epochs", f"epochs: {self.epochs} must be >= 1")


def parse(argv):
    (config,) = parse_config(HfArgumentParser(Config), argv, error=ChapterError)
    return config


def test_recipe_values_apply_and_flags_win(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: recipe\nlr: 2.0e-5\n")
    assert parse(["--config", str(recipe)]) == Config(name="recipe", lr=2e-5, epochs=1)
    assert parse(["--config", str(recipe), "--lr", "0.5"]) == Config(name="recipe", lr=0.5, epochs=1)
    assert parse([]) == Config()


@pytest.mark.parametrize(
    ("text", "flags", "message"),
    [
        (None, [], "{path}: recipe not found"),
        ("name: [unclosed\n", [], "{path}: not valid YAML"),
        ("- a\n- b\n", [], "{path}: expected field: value pairs, got list"),
        ("nmae: x\nlr: 1\n", [], "{path}: unknown field(s) ['nmae']"),
        ("epochs: 0\n", [], "{path}: epochs: 0 must be >= 1"),
        ("epochs: 2\n", ["--epochs", "0"], "command line: epochs: 0 must be >= 1"),
    ],
)
def test_bad_recipes_raise_the_chapters_error_naming_the_source(text, flags, message, tmp_path):
    recipe = tmp_path / "r.yaml"
    if text is not None:
        recipe.write_text(text)
    with pytest.raises(ChapterError) as err:
        parse(["--config", str(recipe), *flags])
    assert str(err.value).startswith(message.format(path=recipe))
