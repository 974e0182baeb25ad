import pytest
from torch import nn

from mnist_helpers.model_utils import count_parameters, model_summary, receptive_field_table


def rf(model, size=28):
    return [(r.receptive_field, r.jump, r.out_size) for r in receptive_field_table(model, (1, size, size))][1:]


def test_three_3x3_convs_see_7_pixels():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3))
    assert rf(model) == [(3, 1, 26), (5, 1, 24), (7, 1, 22)]


def test_maxpool_doubles_the_jump():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3))
    assert rf(model) == [(3, 1, 26), (4, 2, 13), (8, 2, 11)]


def test_dilation_2_widens_a_3x3_to_5():
    table = receptive_field_table(nn.Sequential(nn.Conv2d(1, 4, 3, dilation=2, padding=2)))
    assert (table[1].receptive_field, table[1].dilation, table[1].padding, table[1].out_size) == (5, 2, 2, 28)


def test_strided_conv_and_global_pooling():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.Conv2d(4, 4, 3), nn.AdaptiveAvgPool2d(1))
    assert rf(model) == [(3, 2, 13), (7, 2, 11), (27, 22, 1)]
    assert "AdaptiveAvgPool2d" in str(receptive_field_table(model))


def test_parameter_count_and_summary():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))
    expected = 72 + 16 + 8 * 26 * 26 * 10 + 10
    assert count_parameters(model) == expected
    text = model_summary(model)
    assert f"Total params: {expected:,}" in text and "Conv2d-1" in text


def test_bad_input_size_is_a_value_error():
    with pytest.raises(ValueError, match=r"\(channels, height, width\)"):
        receptive_field_table(nn.Conv2d(1, 1, 3), (28, 28))
