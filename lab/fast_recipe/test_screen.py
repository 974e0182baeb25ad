"""The screen's variants are the notebook's model with only the stated change."""
import pytest
import torch

from lab.fast_recipe.screen import BASE, CONFIGS, build_model, pool_later
from mnist_helpers import count_parameters
from scripts.notebook_code import notebook_model


def test_the_pool_stem_is_the_notebooks_model():
    torch.manual_seed(0)
    a = build_model("pool")
    torch.manual_seed(0)
    b = notebook_model("part3")
    x = torch.randn(4, 1, 28, 28)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))


def test_the_stride2_stem_skips_the_24x24_map():
    model = build_model("stride2").eval()
    assert count_parameters(model) == count_parameters(notebook_model("part3")) + 288 - 200
    assert model.pool1(model.conv1(torch.zeros(2, 1, 28, 28))).shape == (2, 8, 12, 12)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_configs_only_name_known_settings():
    for name, changes in CONFIGS.items():
        assert set(changes) <= set(BASE) | {"LATE_POOL"}, name
    with pytest.raises(ValueError, match="unknown stem"):
        build_model("patchify")


def test_the_late_pool_keeps_the_parameters_and_runs_block4_on_the_8x8_map():
    model = pool_later(notebook_model("part3")).eval()
    assert count_parameters(model) == count_parameters(notebook_model("part3"))
    seen = []
    model.block4[0].register_forward_hook(lambda module, inputs, output: seen.append(output.shape[-1]))
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert seen == [8]


def test_a_recipe_name_the_screen_would_not_apply_raises():
    from lab.fast_recipe.screen import check_notebook_recipe
    from mnist_helpers.recipes import notebook_recipe

    check_notebook_recipe(notebook_recipe("part3"))  # the notebook's own recipe is applied in full
    with pytest.raises(KeyError, match="TRANSLATE"):
        check_notebook_recipe(notebook_recipe("part3") | {"TRANSLATE": 2})
