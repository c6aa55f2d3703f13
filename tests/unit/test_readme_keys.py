"""The README's key table is the areas' declarations."""

from xstui.screens import keys


def test_the_readme_key_table_is_the_declarations():
    assert keys.section(keys.README.read_text()) == keys.table(), (
        "the README's key table drifted: run python -m xstui.screens.keys --write"
    )
