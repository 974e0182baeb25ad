"""The batched warp against torchvision on real digits.

Tolerances (pixels in [0, 1]):
- rotation vs ``TF.rotate`` with zero padding (``fill=None``; the tensor path's
  ``fill=0`` blends edges through a mask instead): the same sampling grid, so
  bilinear agrees to max |diff| < 1e-4 and nearest picks the same pixel (a
  sample point exactly halfway between two pixels may round either way);
- centre crop 22 + resize 28 vs ``CenterCrop(22)`` + ``Resize(28)``: identical sample
  positions. Inside the crop they agree to < 1e-4; on the output's border rows and
  columns Resize clamps to the crop's edge while the warp also reads the pixel just
  outside it, with bilinear weight 3/28, so there max |diff| <= 3/28 (~0.107).
"""
import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import CenterCrop, InterpolationMode, Resize

import torch.nn.functional as F

from mnist_helpers.augment import RandomRotateCrop, affine_matrices, sampling_grid, warp


@pytest.fixture(scope="module")
def digits(test_split):
    return test_split.data[:256].unsqueeze(1).float() / 255.0


@pytest.mark.parametrize("angle", [-15.0, -7.5, 3.0, 10.0, 15.0])
def test_rotation_matches_torchvision_rotate(digits, angle):
    ours = warp(digits, affine_matrices(torch.full((len(digits),), angle), torch.ones(len(digits))))
    theirs = TF.rotate(digits, angle, interpolation=InterpolationMode.BILINEAR)
    assert (ours - theirs).abs().max().item() < 1e-4


@pytest.mark.parametrize("angle", [-15.0, -7.5, 3.0, 10.0, 15.0])
def test_nearest_rotation_matches_torchvision_rotate(digits, angle):
    matrices = affine_matrices(torch.full((len(digits),), angle), torch.ones(len(digits)))
    ours = warp(digits, matrices, "nearest")
    theirs = TF.rotate(digits, angle, interpolation=InterpolationMode.NEAREST)
    differ = (ours - theirs).abs() > 1e-6
    assert differ.float().mean().item() < 1e-3
    # nearest keeps the original pixel values: no blur
    assert torch.isin(ours, digits).all()


def test_random_rotate_crop_is_torchvisions_sequence(digits):
    """Per image: optional CenterCrop(22) + Resize(28), then rotate (nearest), with the same draws."""
    aug = RandomRotateCrop(degrees=15, crop_prob=0.5)
    ours = aug(digits, torch.Generator().manual_seed(3))
    angles, cropped = aug.sample(len(digits), torch.Generator().manual_seed(3))
    assert 0 < cropped.sum() < len(digits)
    crop_resize = Resize((28, 28), antialias=True)
    for i in range(len(digits)):
        img = crop_resize(CenterCrop(22)(digits[i])) if cropped[i] else digits[i]
        theirs = TF.rotate(img, float(angles[i]), interpolation=InterpolationMode.NEAREST)
        # the crop's border rows differ by up to 3/28 (see the module docstring)
        differ = (ours[i] - theirs).abs() > (3 / 28 + 1e-4 if cropped[i] else 1e-6)
        assert differ.float().mean().item() < 0.01, f"image {i}"


def test_rotation_direction_is_counter_clockwise(digits):
    # A point right of centre moves up (smaller row index) under +90°.
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 14, 24] = 1.0
    out = warp(img, affine_matrices(torch.tensor([90.0]), torch.ones(1)))
    row, col = divmod(int(out.flatten().argmax()), 28)
    assert col in (13, 14) and row < 8


def test_centre_crop_resize_matches_torchvision(digits):
    ours = warp(digits, affine_matrices(torch.zeros(len(digits)), torch.full((len(digits),), 22 / 28)))
    theirs = Resize((28, 28), antialias=True)(CenterCrop(22)(digits))
    diff = (ours - theirs).abs()
    assert diff[..., 1:-1, 1:-1].max().item() < 1e-4
    assert diff.max().item() <= 3 / 28 + 1e-4
    assert diff.mean().item() < 1e-3


def test_rotation_and_crop_compose_into_one_affine_map(digits):
    """Rotation + zoom by 28/22 in one warp equals torchvision's single-resample ``affine``."""
    ours = warp(digits, affine_matrices(torch.full((len(digits),), 12.0), torch.full((len(digits),), 22 / 28)))
    # TF.affine measures angles clockwise, TF.rotate and our warp counter-clockwise
    theirs = TF.affine(digits, angle=-12.0, translate=[0, 0], scale=28 / 22, shear=[0.0],
                       interpolation=InterpolationMode.BILINEAR)
    assert (ours - theirs).abs().max().item() < 1e-4


def test_sampling_grid_equals_affine_grid():
    angles, cropped = RandomRotateCrop(15, 0.5).sample(64, torch.Generator().manual_seed(1))
    m = affine_matrices(angles, torch.where(cropped, 22 / 28, 1.0))
    expected = F.affine_grid(m, [64, 1, 28, 20], align_corners=False)
    assert torch.allclose(sampling_grid(m, 28, 20), expected, atol=1e-6)


def test_random_draws_stay_in_range_and_crop_with_the_given_probability():
    aug = RandomRotateCrop(degrees=15, crop_prob=0.1)
    angles, cropped = aug.sample(20000, torch.Generator().manual_seed(0))
    assert cropped.dtype == torch.bool
    assert abs(cropped.float().mean().item() - 0.1) < 0.01
    assert angles.abs().max().item() <= 15.0 and angles.abs().max().item() > 14.5
    assert abs(angles.mean().item()) < 0.2


def test_same_seed_same_batch(digits):
    aug = RandomRotateCrop(15, 0.1)
    a = aug(digits, torch.Generator().manual_seed(7))
    b = aug(digits, torch.Generator().manual_seed(7))
    c = aug(digits, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_area_rotated_in_from_outside_is_background():
    ones = torch.ones(1, 1, 28, 28)
    out = warp(ones, affine_matrices(torch.tensor([45.0]), torch.ones(1)))
    assert out[0, 0, 0, 0].item() == 0.0 and out[0, 0, 14, 14].item() == pytest.approx(1.0)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="crop_prob must be a probability"):
        RandomRotateCrop(15, crop_prob=-0.1)
    with pytest.raises(ValueError, match="degrees must be >= 0"):
        RandomRotateCrop(degrees=-1, crop_prob=0.1)
    with pytest.raises(ValueError, match=r"shape \(N, 1, H, W\)"):
        RandomRotateCrop(15, 0.1)(torch.zeros(4, 28, 28))
    with pytest.raises(ValueError, match="floating-point"):
        RandomRotateCrop(15, 0.1)(torch.zeros(4, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        RandomRotateCrop(15, 0.1, interpolation="bicubic")


def test_epoch_draws_are_the_per_batch_draws_in_order(digits):
    """``draw`` for a whole epoch consumes the generator exactly as one ``sample`` per batch would."""
    aug = RandomRotateCrop(degrees=15, crop_prob=0.3)
    sizes = [5, 5, 3]
    epoch = aug.draw(sizes, torch.Generator().manual_seed(4))
    generator = torch.Generator().manual_seed(4)
    for (angles, crop_index), n in zip(epoch, sizes):
        expected_angles, expected_cropped = aug.sample(n, generator)
        assert torch.equal(angles, expected_angles)
        assert torch.equal(crop_index, expected_cropped.nonzero().flatten())


def test_apply_with_crop_index_equals_cropping_by_mask(digits):
    aug = RandomRotateCrop(degrees=15, crop_prob=0.5)
    angles, cropped = aug.sample(len(digits), torch.Generator().manual_seed(2))
    ours = aug.apply(digits, angles, cropped.nonzero().flatten())
    by_mask = digits.clone()
    zoom = affine_matrices(torch.zeros(int(cropped.sum())), torch.full((int(cropped.sum()),), 22 / 28))
    by_mask[cropped] = warp(digits[cropped], zoom, "bilinear")
    assert torch.equal(ours, warp(by_mask, affine_matrices(angles, torch.ones_like(angles)), "nearest"))


def test_a_rotation_then_a_move_equals_torchvisions_affine(digits):
    """``translate``: the rotated digit moved right and down by whole pixels, as ``TF.affine(translate=...)``."""
    n = len(digits)
    shifts = torch.tensor([[2.0, -3.0]]).expand(n, 2)
    ours = warp(digits, affine_matrices(torch.full((n,), 12.0), torch.ones(n), shifts))
    theirs = TF.affine(digits, angle=-12.0, translate=[2, -3], scale=1.0, shear=[0.0],
                       interpolation=InterpolationMode.BILINEAR)
    assert (ours - theirs).abs().max().item() < 1e-4
    moved = warp(digits, affine_matrices(torch.zeros(n), torch.ones(n), shifts), "nearest")
    assert torch.equal(moved[..., :-3, 2:], digits[..., 3:, :-2])  # 2 right, 3 up: a whole-pixel move copies pixels


def test_translate_draws_after_the_rest_and_stays_in_range():
    plain, moving = RandomRotateCrop(15, 0.3), RandomRotateCrop(15, 0.3, translate=2)
    a = plain.draw_epoch([64, 36], torch.Generator().manual_seed(4))
    b = moving.draw_epoch([64, 36], torch.Generator().manual_seed(4))
    assert a[2] is None and torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # translate=0: the same stream
    assert b[2].shape == (100, 2) and b[2].abs().max() <= 2 and b[2].abs().max() > 1.5
    batches = moving.draw([64, 36], torch.Generator().manual_seed(4))
    assert [len(batch) for batch in batches] == [3, 3] and torch.equal(torch.cat([s for _, _, s in batches]), b[2])
    with pytest.raises(ValueError, match="translate"):
        RandomRotateCrop(15, 0.1, translate=-1)


def test_crop_flags_give_the_same_images_as_crop_positions(digits):
    aug = RandomRotateCrop(15, 0.5, translate=2)
    angles, cropped, shifts = aug.draw_epoch([len(digits)], torch.Generator().manual_seed(3))
    by_index = aug.apply(digits, angles, cropped.nonzero().flatten(), shifts)
    assert torch.equal(aug.apply_flags(digits, angles, cropped, shifts), by_index)
