import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mnist_helpers.augment import RandomRotateCrop
from mnist_helpers.tensor_loader import TensorLoader
from mnist_helpers import transforms
from mnist_helpers.transforms import MNIST_MEAN, MNIST_STD


def test_batches_equal_torchvision_totensor_normalize(test_split):
    loader = TensorLoader(test_split.data, test_split.targets, batch_size=50)
    x, y = next(iter(loader))
    tf = transforms.torchvision_reference()
    expected = torch.stack([tf(test_split[i][0]) for i in range(50)])
    assert x.shape == (50, 1, 28, 28) and x.dtype == torch.float32
    assert torch.allclose(x, expected, atol=1e-5)
    assert torch.equal(y, test_split.targets[:50])


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sizes_and_length_match_dataloader(drop_last):
    images = torch.zeros(103, 28, 28, dtype=torch.uint8)
    labels = torch.arange(103)
    ours = TensorLoader(images, labels, batch_size=20, drop_last=drop_last)
    theirs = DataLoader(TensorDataset(images, labels), batch_size=20, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [len(y) for _, y in ours] == [len(y) for _, y in theirs]


def test_shuffle_visits_every_sample_once_and_is_seeded():
    images = torch.zeros(1000, 28, 28, dtype=torch.uint8)
    labels = torch.arange(1000)
    epoch = lambda loader: torch.cat([y for _, y in loader])
    a = TensorLoader(images, labels, 64, shuffle=True, seed=3)
    first, second = epoch(a), epoch(a)
    assert sorted(first.tolist()) == list(range(1000))
    assert not torch.equal(first, labels) and not torch.equal(first, second)
    assert torch.equal(first, epoch(TensorLoader(images, labels, 64, shuffle=True, seed=3)))


def test_same_seed_reproduces_augmented_batches(test_split):
    make = lambda seed: TensorLoader(test_split.data[:512], test_split.targets[:512], 128, shuffle=True,
                                     augment=RandomRotateCrop(15, 0.1), seed=seed)
    a, b, c = [torch.cat([x for x, _ in make(s)]) for s in (1, 1, 2)]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rotated_in_area_is_the_normalised_background():
    blank = torch.zeros(4, 28, 28, dtype=torch.uint8)
    x, _ = next(iter(TensorLoader(blank, torch.zeros(4, dtype=torch.long), 4,
                                  augment=RandomRotateCrop(degrees=15, crop_prob=1.0))))
    assert torch.allclose(x, torch.full_like(x, -MNIST_MEAN / MNIST_STD))


def test_bad_inputs_are_value_errors():
    labels = torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(N, 1, H, W\)"):
        TensorLoader(torch.zeros(2, 3, 28, 28, dtype=torch.uint8), labels)
    with pytest.raises(ValueError, match="uint8"):
        TensorLoader(torch.zeros(2, 28, 28), labels)
    with pytest.raises(ValueError, match="empty"):
        TensorLoader(torch.zeros(0, 28, 28, dtype=torch.uint8), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="labels must have shape"):
        TensorLoader(torch.zeros(2, 28, 28, dtype=torch.uint8), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(torch.zeros(2, 28, 28, dtype=torch.uint8), labels, batch_size=0)


def test_augmented_batches_are_those_of_per_batch_draws(test_split):
    """The loader draws a whole epoch at its start; the batches equal drawing batch by batch."""
    aug = RandomRotateCrop(degrees=15, crop_prob=0.3)
    loader = TensorLoader(test_split.data[:300], test_split.targets[:300], 128, shuffle=True, seed=9, augment=aug)
    generator = torch.Generator().manual_seed(9)
    order = torch.randperm(300, generator=generator)
    for i, (x, y) in enumerate(loader):
        idx = order[i * 128:(i + 1) * 128]
        expected = aug(test_split.data[idx].unsqueeze(1).float() / 255, generator)
        assert torch.equal(x, (expected - MNIST_MEAN) / MNIST_STD) and torch.equal(y, test_split.targets[idx])


def test_augment_without_draw_and_apply_is_a_type_error():
    with pytest.raises(TypeError, match="draw\\(\\) and apply\\(\\)"):
        TensorLoader(torch.zeros(2, 28, 28, dtype=torch.uint8), torch.zeros(2, dtype=torch.long),
                     augment=lambda x, g: x)
