"""The README's Postfix recipe is the one the real-Postfix tests run word for word
(:data:`tests.postfix.README_RECIPE`, run by ``test_postfix_live.py``)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.postfix import README_RECIPE

README = Path(__file__).parent.parent / "README.md"


def recipe_in(text: str) -> list[str]:
    """The sh blocks of *text* that start by naming the instance's configuration directory."""
    return re.findall(r"^```sh\n(conf=/etc/postfix\n.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_the_readme_gives_the_recipe_the_tests_run() -> None:
    assert recipe_in(README.read_text(encoding="utf-8")) == [README_RECIPE]
