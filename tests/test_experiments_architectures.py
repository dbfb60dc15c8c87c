"""The architectures of a run (``Config.arch``): their shapes, that every init scheme works on each,
NHWC images for the convolutional ones, the command-line defaults, and a small CNN that learns."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from tinynet import init, nn
from tinynet.experiments import Config, run
from tinynet.experiments.architectures import ARCHITECTURES, DEFAULT_SIZES, build_model, needs_images
from tinynet.experiments.build import Dataset, build_mlp, load_dataset
from tinynet.experiments.cli import add_run_arguments, config_from_args
from tinynet.experiments.config import ConfigError, describe, validate
from tinynet.experiments.run import check_resume
from tinynet.init.model import named_layers

IMAGE = (28, 28, 1)


def _shape(arch):
    return IMAGE if needs_images(arch) else (784,)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_each_architecture_maps_a_batch_to_class_scores(arch):
    model = build_model(arch, _shape(arch), 10, depth=2, width=8, init="he", rng=0)
    x = np.random.default_rng(0).standard_normal((3, *_shape(arch))).astype(np.float32)
    assert model(x).shape == (3, 10)
    kinds = [type(m).__name__ for _, m in named_layers(model)]
    assert kinds[-1] == "Linear"
    if arch in ("cnn", "resnet"):
        assert kinds.count("Conv2d") == (2 if arch == "cnn" else 1 + 2 * 2)
    residuals = [m for m in model.modules() if isinstance(m, nn.Residual)]
    assert len(residuals) == (2 if arch.startswith("res") else 0)


def test_the_cnn_pools_twice_like_lenet_and_flattens_7x7():
    model = build_model("cnn", IMAGE, 10, depth=3, width=4, init="he", rng=0)
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 2
    assert model[-1].fans() == (7 * 7 * 4, 10)


def test_mlp_is_build_mlp_weight_for_weight():
    a = build_mlp(784, 10, 2, 16, "relu", "he", rng=3)
    b = build_model("mlp", (784,), 10, 2, 16, "relu", "he", rng=3)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert na == nb and np.array_equal(pa.data, pb.data)


SCHEMES = [name for name in init.names() if name not in ("lsuv",)]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_registered_scheme_initializes_every_architecture(arch):
    x = np.random.default_rng(1).standard_normal((4, *_shape(arch))).astype(np.float32)
    for name in [*SCHEMES, "lsuv"]:
        model = build_model(arch, _shape(arch), 10, depth=1, width=8, init=name, rng=0, data=x)
        out = model(x).data
        assert out.shape == (4, 10), name
        weights = [layer.weight.data for _, layer in named_layers(model)]
        if name == "zeros":
            assert all(np.all(w == 0) for w in weights)
        else:
            assert all(np.all(np.isfinite(w)) for w in weights), (arch, name)


def test_convolutional_architectures_refuse_flat_inputs_and_name_the_fix():
    with pytest.raises(ValueError, match=r"takes NHWC images.*\(784,\).*as_images"):
        build_model("cnn", (784,), 10)
    with pytest.raises(ValueError, match=r"mlp, cnn, plaincnn, resmlp, resnet"):
        build_model("transformer", (784,), 10)


def test_dataset_as_images_is_a_view_of_the_same_pixels():
    data = load_dataset("synthetic", limit=20)
    assert data.image_shape == IMAGE and data.in_shape == (784,) and data.in_features == 784
    images = data.as_images()
    assert images.x_train.shape == (20, 28, 28, 1) and images.in_features == 784
    assert np.shares_memory(images.x_train, data.x_train)
    assert np.array_equal(images.x_test.reshape(20, -1), data.x_test)
    assert images.as_images() is images
    flat = Dataset("features", data.x_train, data.y_train, data.x_test, data.y_test)
    with pytest.raises(ValueError, match="784 plain features, not images"):
        flat.as_images()


def test_config_names_a_bad_arch_and_describes_each():
    with pytest.raises(ConfigError, match="arch"):
        validate(Config(arch="vgg"))
    assert describe(Config(arch="cnn", depth=2, width=16)).startswith("CNN 2 conv layers of 16 channels")
    assert describe(Config(arch="resnet", depth=1, width=8)).startswith("residual CNN 1 residual block of 8")
    assert describe(Config(arch="resmlp", depth=3, width=64)).startswith("residual MLP 3 residual blocks")


EXAMPLE_DEFAULTS = Config(depth=6, width=128)


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, EXAMPLE_DEFAULTS)
    return config_from_args(parser, parser.parse_args(argv))


def test_depth_and_width_default_per_architecture():
    assert (_parse([]).depth, _parse([]).width) == (6, 128)  # the example's own MLP defaults
    for arch, (depth, width) in DEFAULT_SIZES.items():
        config = _parse(["--arch", arch])
        assert (config.arch, config.depth, config.width) == (arch, depth, width)
    assert _parse(["--arch", "cnn", "--width", "4"]).width == 4


def test_resuming_a_checkpoint_without_arch_counts_it_as_an_mlp(tmp_path):
    config = Config(depth=1, width=8, epochs=1, limit=64)
    path = tmp_path / "ckpt.npz"
    run(config, quiet=True, checkpoint=path)
    ckpt, warning = check_resume(config, path)
    assert warning is None
    stored = dict(ckpt.config)
    stored.pop("arch")
    ckpt.config = stored
    assert check_resume(config, ckpt)[1] is None
    with pytest.raises(ValueError, match="arch"):
        check_resume(Config(depth=1, width=8, epochs=1, limit=64, arch="resmlp"), ckpt)


def test_a_small_cnn_learns_on_512_digits_in_two_epochs():
    config = Config(arch="cnn", depth=2, width=8, init="he", epochs=2, limit=512, probe_size=64)
    result = run(config, quiet=True, record_every=0, bins=1)
    first, last = result.fit.step_losses[0], result.fit.history[-1]["train_loss"]
    assert last < 0.6 * first  # measured: 4.50 at the first step, 2.20 over the second epoch
    assert result.fit.history[-1]["test_accuracy"] > 0.2  # twice chance; measured 0.31


def test_residual_starts_fixup_and_rezero_blocks_at_the_identity():
    x = np.random.default_rng(2).standard_normal((32, 784)).astype(np.float32)
    stack = slice(0, -1)  # everything but the classifier, which Fixup sets to zero
    plain = build_model("resmlp", (784,), 10, depth=16, width=32, init="he", rng=0)
    assert float(plain[stack](x).data.std()) > 100  # He blocks: the variance triples per block
    for residual in ("fixup", "rezero"):
        model = build_model("resmlp", (784,), 10, depth=16, width=32, init="he", rng=0, residual=residual)
        first = model[0:2](x).data
        np.testing.assert_allclose(model[stack](x).data, first, rtol=1e-6, atol=1e-6)
    fixup = build_model("resmlp", (784,), 10, depth=16, width=32, init="he", rng=0, residual="fixup")
    assert np.all(fixup[-1].weight.data == 0)
    rezero = build_model("resmlp", (784,), 10, depth=16, width=32, init="he", rng=0, residual="rezero")
    assert all(float(m.scale.data) == 0.0 for m in rezero.modules() if isinstance(m, nn.Residual))
    assert _parse(["--arch", "resmlp", "--residual", "fixup"]).residual == "fixup"
    with pytest.raises(ConfigError, match="residual: needs a residual arch"):
        validate(Config(arch="cnn", residual="rezero"))
    with pytest.raises(ValueError, match="fixup, rezero"):
        build_model("resmlp", (784,), 10, residual="skip")


def test_plaincnn_is_circular_convs_without_pooling_then_global_average():
    model = build_model("plaincnn", IMAGE, 10, depth=3, width=4, init="delta_orthogonal", rng=0)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and convs[0].stride == (2, 2)  # the stem, then depth stride-1 convs
    assert all(c.padding_mode == "circular" and c.stride == (1, 1) for c in convs[1:])
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in model.modules())
    assert isinstance(model[-2], nn.GlobalAvgPool2d) and model[-1].fans() == (4, 10)
    assert describe(Config(arch="plaincnn", depth=3, width=4)).startswith("plain CNN")


@pytest.mark.parametrize(("norm", "kind"), [("batchnorm", nn.BatchNorm1d), ("layernorm", nn.LayerNorm)])
def test_norm_puts_a_normalization_layer_before_every_hidden_activation(norm, kind):
    model = build_model("mlp", (784,), 10, depth=3, width=8, init="normal(std=0.01)", rng=0, norm=norm)
    names = [type(m).__name__ for m in model]
    assert names == ["Linear", kind.__name__, "ReLU"] * 3 + ["Linear"]
    x = np.random.default_rng(0).standard_normal((16, 784)).astype(np.float32)
    hidden = model[:-1](x).data
    assert hidden.std() > 0.3  # normal(std=0.01) alone leaves about 1e-4 here
    config = Config(depth=3, width=8, norm=norm)
    assert norm in describe(validate(config))
    assert _parse(["--norm", norm]).norm == norm


def test_norm_refuses_other_architectures_and_unknown_names():
    with pytest.raises(ConfigError, match="norm: is only for arch mlp, got arch 'cnn'"):
        validate(Config(arch="cnn", norm="batchnorm"))
    with pytest.raises(ConfigError, match="closest match: 'batchnorm'"):
        validate(Config(norm="batchnrom"))
    with pytest.raises(ValueError, match="only for arch mlp"):
        build_model("resmlp", (784,), 10, norm="layernorm")


def test_resuming_a_checkpoint_without_norm_counts_it_as_none(tmp_path):
    config = Config(depth=1, width=8, epochs=1, limit=64)
    path = tmp_path / "ckpt.npz"
    run(config, quiet=True, checkpoint=path)
    ckpt, _ = check_resume(config, path)
    stored = dict(ckpt.config)
    stored.pop("norm")
    ckpt.config = stored
    assert check_resume(config, ckpt)[1] is None
    with pytest.raises(ValueError, match="norm"):
        check_resume(Config(depth=1, width=8, epochs=1, limit=64, norm="layernorm"), ckpt)
