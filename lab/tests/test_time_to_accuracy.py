"""``lab.benchmarks.time_to_accuracy``: the re-implemented PyTorch example is the example, and the clock reads as
its docstring says."""
import pytest
import torch
from torch import nn

from lab.benchmarks import time_to_accuracy as tta
from mnist_helpers import count_parameters, load_mnist_tensors
from mnist_helpers.recipes import notebook_recipe


def test_the_example_has_main_py_s_layers_and_parameter_count():
    model = tta.ExampleNet()
    assert count_parameters(model) == 1_199_882
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [(1, 32, (3, 3), (1, 1)),
                                                                                         (32, 64, (3, 3), (1, 1))]
    dense = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(9216, 128), (128, 10)]
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.25, 0.5]
    model.eval()
    out = model(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10) and torch.allclose(out.exp().sum(1), torch.ones(3))  # log-probabilities, for nll_loss


def test_the_example_trains_with_adadelta_at_1_decayed_by_0_7_per_epoch_at_batch_64():
    optimizer, scheduler = tta.example_optimizer(tta.ExampleNet())
    assert isinstance(optimizer, torch.optim.Adadelta) and optimizer.param_groups[0]["lr"] == 1.0
    assert isinstance(scheduler, torch.optim.lr_scheduler.StepLR) and (scheduler.step_size, scheduler.gamma) == (1, 0.7)
    assert tta.EXAMPLE["BATCH_SIZE"] == 64


def test_the_example_sees_each_image_as_torchvision_s_totensor_and_normalize_make_it():
    from torchvision import transforms
    images, labels = load_mnist_tensors("test")
    data = tta._Images(images[:2], labels[:2], transforms.Compose([transforms.ToTensor(),
                                                                    transforms.Normalize((0.1307,), (0.3081,))]))
    image, label = data[1]
    assert image.shape == (1, 28, 28) and label == int(labels[1])
    assert torch.allclose(image[0], (images[1].float() / 255 - 0.1307) / 0.3081, atol=1e-6)


def test_the_part3_family_uses_part3_s_names_and_part3_is_the_notebook_s_recipe():
    assert {k: v for k, v in tta.RECIPES["part3"].items() if k not in ("MODEL", "STEM", "CHANNELS_LAST", "NESTEROV")} == notebook_recipe("part3")
    assert all(set(r) == set(tta.RECIPES["part3"]) for r in tta.RECIPES.values())
    with pytest.raises(ValueError, match="unknown stem"):
        tta.build_model("wide")
    assert tta.build_model("stride2")(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_time_counts_to_the_first_epoch_at_the_target_or_to_the_end_of_a_sized_schedule():
    seconds = [10.0, 10.0, 10.0, 10.0]
    assert tta.seconds_to(99.0, [98.9, 99.1, 98.95, 99.2], seconds, sized=False) == 20.0  # the example: first epoch
    assert tta.seconds_to(99.4, [98.9, 99.1, 98.95, 99.2], seconds, sized=False) is None
    assert tta.seconds_to(99.0, [98.9, 99.1, 98.95, 99.2], seconds, sized=True) == 40.0   # the last epoch holds
    assert tta.seconds_to(99.0, [98.9, 99.1, 99.2, 98.99], seconds, sized=True) is None   # ... or it is not reached
    assert tta.seconds_to(99.4, [99.0, 99.41, 99.40, 99.45], seconds, sized=True) == 40.0  # 99.4%: the last 3 hold
    assert tta.seconds_to(99.4, [99.5, 99.39, 99.40, 99.45], seconds, sized=True) is None


def test_part5_is_its_notebook_s_recipe_and_model_and_each_lever_changes_only_what_it_names():
    part5 = tta.RECIPES["part5"]
    assert {k: part5[k] for k in notebook_recipe("part5")} == notebook_recipe("part5")
    assert part5["EMA_DECAY"] is None and part5["FLOOR_EPOCH"] == part5["EPOCHS"] and part5["MODEL"] == "part5"
    assert count_parameters(tta.recipe_model(part5)) < 8_000
    changed = {name: {k for k in part5 if r[k] != part5[k]} for name, r in tta.PART5_LEVERS.items()}
    assert changed == {"part5_b256": {"BATCH_SIZE", "PEAK_LR"}, "part5_b512": {"BATCH_SIZE", "PEAK_LR"},
                       "part5_contiguous": {"CHANNELS_LAST"}, "part5_pool": {"STEM"},
                       "part5_part3_model": {"MODEL", "STEM"}, "part5_momentum": {"NESTEROV"},
                       "part5_augment": {"DEGREES", "CROP_PROB"},
                       "part5_1epoch": {"EPOCHS", "FLOOR_EPOCH", "WARMUP_EPOCHS"}}
