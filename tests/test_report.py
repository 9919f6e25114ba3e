"""The generic table renderer: a table spec and a results file give Markdown."""

import pytest

from mnist_vit.report import Table, markdown, replace_block

SPEC = Table(
    columns=(("backend", "{backend}"), ("ms", "{ms:.1f}"), ("padding", "{share[padded]:.0%}")),
    caption="{settings[steps]} steps, made by `{command}`.",
)


def test_a_row_per_result_with_each_cell_formatted_and_the_caption_from_the_file():
    results = {
        "results": [{"backend": "jax", "ms": 3.14159, "share": {"padded": 0.45}}],
        "settings": {"steps": 20},
        "command": "python bench.py",
    }
    assert markdown(SPEC, results).splitlines() == [
        "| backend | ms | padding |",
        "|---|---|---|",
        "| jax | 3.1 | 45% |",
        "",
        "20 steps, made by `python bench.py`.",
    ]


def test_rows_derived_by_the_caller_replace_the_files_list():
    rows = [{"backend": "torch", "ms": 2.0, "share": {"padded": 0.0}}] * 2
    table = markdown(Table(SPEC.columns), {"results": []}, rows)
    assert table.count("| torch | 2.0 | 0% |") == 2


def test_a_field_the_results_lack_is_named():
    with pytest.raises(ValueError, match=r"template '\{ms:\.1f\}' needs a field the results lack \('ms'\)"):
        markdown(SPEC, {"results": [{"backend": "jax", "share": {"padded": 0.1}}]})


def test_a_block_is_replaced_between_its_markers_and_only_there():
    text = "a\n<!-- t:start -->\nold\n<!-- t:end -->\nb <!-- u:start -->x<!-- u:end -->"
    assert replace_block(text, "t", "new") == text.replace("\nold\n", "\nnew\n")
    with pytest.raises(ValueError, match="lacks the <!-- v:start -->"):
        replace_block(text, "v", "new")
