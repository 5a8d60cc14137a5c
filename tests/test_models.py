"""The DCGAN generator and discriminator: shapes, options, init and gradient flow."""

import json
import re

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
    init_weights,
)

N, K = 3, 10  # batch size and number of classes: different, so a swap shows
WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
CONVS = (nn.Conv2d, nn.ConvTranspose2d)


def make_g(**kwargs) -> Generator:
    kwargs.setdefault("width", 8)
    kwargs.setdefault("z_dim", 16)
    if kwargs.get("conditioning", "none") != "none":
        kwargs.setdefault("num_classes", K)
        kwargs.setdefault("embed_dim", 6)
    return Generator(GeneratorConfig(**kwargs))


def make_d(**kwargs) -> Discriminator:
    kwargs.setdefault("width", 8)
    if kwargs.get("conditioning", "none") != "none":
        kwargs.setdefault("num_classes", K)
    return Discriminator(DiscriminatorConfig(**kwargs))


def labels_for(conditioning: str, n: int = N) -> torch.Tensor | None:
    return None if conditioning == "none" else torch.arange(n) % K


def last(model: nn.Module, kinds) -> nn.Module:
    return [m for m in model.modules() if isinstance(m, kinds)][-1]


def count(model: nn.Module, kinds) -> int:
    return sum(isinstance(m, kinds) for m in model.modules())


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def top_singular_value(layer: nn.Module) -> float:
    """Top singular value of the weight as (out, -1); ConvTranspose: out is dim 1."""
    weight = layer.weight.detach()
    if isinstance(layer, nn.ConvTranspose2d):
        weight = weight.movedim(1, 0)
    return torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2).item()


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize("conditioning", ["none", "cgan", "acgan"])
@pytest.mark.parametrize("depth", ["small", "medium", "large"])
@pytest.mark.parametrize("linear_first", [False, True])
@pytest.mark.parametrize("kernel_size", [4, 5])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("image_size", [28, 32, 64])
def test_generator_shape_and_range(
    image_size, channels, kernel_size, linear_first, depth, conditioning
):
    torch.manual_seed(0)
    G = make_g(
        image_size=image_size,
        channels=channels,
        kernel_size=kernel_size,
        linear_first=linear_first,
        depth=depth,
        conditioning=conditioning,
    )
    z = G.sample_noise(N)
    assert z.shape == (N, 16)
    images = G(z, labels_for(conditioning))
    assert images.shape == (N, channels, image_size, image_size)
    assert images.abs().max() <= 1
    assert images.std() > 0


@pytest.mark.parametrize("conditioning", ["none", "cgan", "acgan"])
@pytest.mark.parametrize("depth", ["small", "medium", "large"])
@pytest.mark.parametrize("kernel_size", [4, 5])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("image_size", [28, 32, 64])
def test_discriminator_shapes(image_size, channels, kernel_size, depth, conditioning):
    torch.manual_seed(0)
    D = make_d(
        image_size=image_size,
        channels=channels,
        kernel_size=kernel_size,
        depth=depth,
        conditioning=conditioning,
    )
    x = torch.rand(N, channels, image_size, image_size) * 2 - 1
    out = D(x, labels_for(conditioning))
    if conditioning == "acgan":
        logits, class_logits = out
        assert class_logits.shape == (N, K)
    else:
        assert isinstance(out, torch.Tensor)
        logits = out
    assert logits.shape == (N,)


def test_generator_ends_in_tanh():
    torch.manual_seed(0)
    G = make_g(image_size=32, channels=3)
    with torch.no_grad():
        last(G, CONVS).weight.mul_(1000)  # pre-activations far beyond +-1
        images = G(G.sample_noise(8))
    assert images.abs().max() <= 1
    assert (images.abs() > 0.99).float().mean() > 0.5  # saturated, not clipped


@pytest.mark.parametrize("conditioning", ["none", "cgan", "acgan"])
def test_discriminator_returns_logits_not_probabilities(conditioning):
    torch.manual_seed(0)
    D = make_d(image_size=28, conditioning=conditioning)
    assert count(D, nn.Sigmoid) == 0
    with torch.no_grad():
        D.real_fake[0].weight.mul_(1000)
        out = D(torch.rand(16, 1, 28, 28) * 2 - 1, labels_for(conditioning, 16))
    logits = out[0] if conditioning == "acgan" else out
    assert logits.min() < 0 and logits.max() > 1


def test_sample_noise_is_standard_normal_and_seeded():
    G = make_g()
    z = G.sample_noise(4000, generator=torch.Generator().manual_seed(1))
    assert z.shape == (4000, 16)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    again = G.sample_noise(4000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(z, again)


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("image_size", [28, 32, 64])
def test_deeper_models_have_more_layers_and_parameters(image_size):
    for make in (make_g, make_d):
        small, medium, large = (
            make(image_size=image_size, depth=d) for d in ("small", "medium", "large")
        )
        assert count(small, CONVS) < count(medium, CONVS) < count(large, CONVS)
        assert n_params(small) < n_params(medium) < n_params(large)


@pytest.mark.parametrize("linear_first", [False, True])
def test_batchnorm_switch(linear_first):
    for make, extra in ((make_g, {"linear_first": linear_first}), (make_d, {})):
        with_bn = make(image_size=32, depth="medium", batchnorm=True, **extra)
        without = make(image_size=32, depth="medium", batchnorm=False, **extra)
        assert count(with_bn, nn.modules.batchnorm._BatchNorm) > 0
        assert count(without, nn.modules.batchnorm._BatchNorm) == 0


def test_the_discriminator_input_layer_has_no_batchnorm():
    D = make_d(image_size=32, depth="large")
    first_conv = next(i for i, m in enumerate(D.body) if isinstance(m, nn.Conv2d))
    assert isinstance(D.body[first_conv + 1], nn.LeakyReLU)


@pytest.mark.parametrize("linear_first", [False, True])
def test_spectral_norm_bounds_every_weight(linear_first):
    torch.manual_seed(0)
    G = make_g(
        image_size=32,
        spectral_norm=True,
        linear_first=linear_first,
        depth="medium",
        conditioning="cgan",
    )
    D = make_d(image_size=32, spectral_norm=True, depth="medium", conditioning="acgan")
    layers = [m for model in (G, D) for m in model.modules() if isinstance(m, WEIGHTED)]
    assert len(layers) >= 8
    assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    G.eval()  # reading the weight in eval mode runs no power iteration: this is
    D.eval()  # torch's estimate of sigma as built, the one a first forward uses
    sigmas = [top_singular_value(m) for m in layers]
    assert min(sigmas) > 0.99 and max(sigmas) < 1.1, sigmas
    G.train()
    D.train()
    with torch.no_grad():
        for _ in range(10):  # one power iteration per forward in train mode
            D(G(G.sample_noise(4), torch.arange(4)))
    G.eval()
    D.eval()
    sigmas = [top_singular_value(m) for m in layers]
    assert min(sigmas) > 0.99 and max(sigmas) < 1.1, sigmas


def test_without_spectral_norm_nothing_is_parametrized():
    G, D = make_g(linear_first=True), make_d()
    layers = [m for model in (G, D) for m in model.modules() if isinstance(m, WEIGHTED)]
    assert not any(parametrize.is_parametrized(m) for m in layers)


# ---------------------------------------------------------------- init


def _weights(models, spectral_norm: bool) -> torch.Tensor:
    tensors = []
    for model in models:
        for m in model.modules():
            if isinstance(m, WEIGHTED):
                stored = (
                    m.parametrizations.weight.original if spectral_norm else m.weight
                )
                tensors.append(stored.detach().flatten())
    return torch.cat(tensors)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_dcgan_init(spectral_norm):
    torch.manual_seed(0)
    models = [
        make_g(
            image_size=64,
            width=32,
            depth="medium",
            linear_first=True,
            spectral_norm=spectral_norm,
        ),
        make_d(image_size=64, width=32, depth="medium", spectral_norm=spectral_norm),
    ]
    weights = _weights(models, spectral_norm)
    assert weights.numel() > 500_000
    assert abs(weights.mean()) < 1e-3
    assert weights.std() == pytest.approx(0.02, rel=0.02)
    bns = [
        m for model in models for m in model.modules() if isinstance(m, nn.BatchNorm2d)
    ]
    scales = torch.cat([bn.weight.detach() for bn in bns])
    assert scales.numel() > 500
    assert abs(scales.mean() - 1) < 0.005
    assert scales.std() == pytest.approx(0.02, rel=0.2)
    biases = [p for model in models for n, p in model.named_parameters() if "bias" in n]
    assert len(biases) > len(bns)  # BatchNorm shifts and D's output-layer biases
    assert all(torch.all(b == 0) for b in biases)


def test_init_weights_resets_a_trained_model():
    torch.manual_seed(0)
    D = make_d(image_size=64, width=32)
    with torch.no_grad():
        for p in D.parameters():
            p.add_(1.0)
    init_weights(D)
    weights = torch.cat(
        [m.weight.flatten() for m in D.modules() if isinstance(m, CONVS)]
    )
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)
    assert torch.all(D.real_fake[0].bias == 0)


# ---------------------------------------------------------------- conditioning


@pytest.mark.parametrize("conditioning", ["cgan", "acgan"])
def test_generator_labels_change_the_image(conditioning):
    torch.manual_seed(0)
    G = make_g(image_size=28, conditioning=conditioning).eval()
    z = G.sample_noise(4)
    a = torch.tensor([0, 1, 2, 3])
    b = torch.tensor([5, 6, 7, 8])
    with torch.no_grad():
        same_a, again_a, with_b = G(z, a), G(z, a), G(z, b)
    assert torch.equal(same_a, again_a)
    per_image = (same_a - with_b).flatten(1).abs().amax(dim=1)  # (4,)
    assert torch.all(per_image > 1e-4)


def test_cgan_discriminator_labels_change_the_logit():
    torch.manual_seed(0)
    D = make_d(image_size=28, conditioning="cgan").eval()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        a = D(x, torch.tensor([0, 1, 2, 3]))
        b = D(x, torch.tensor([5, 6, 7, 8]))
    assert torch.all((a - b).abs() > 1e-5)


@pytest.mark.parametrize(
    "make, conditioning, call",
    [
        (make_g, "cgan", "G(z, labels)"),
        (make_g, "acgan", "G(z, labels)"),
        (make_d, "cgan", "D(x, labels)"),
    ],
)
def test_conditional_model_without_labels_says_how_to_call_it(make, conditioning, call):
    model = make(image_size=28, conditioning=conditioning)
    x = model.sample_noise(2) if make is make_g else torch.zeros(2, 1, 28, 28)
    with pytest.raises(ValueError, match=re.escape(call)):
        model(x)


def test_acgan_discriminator_needs_no_labels():
    D = make_d(image_size=28, conditioning="acgan")
    logits, class_logits = D(torch.zeros(2, 1, 28, 28))
    assert logits.shape == (2,) and class_logits.shape == (2, K)


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "bad, pattern",
    [
        ({"image_size": 30}, r"image_size 30"),
        ({"channels": 2}, r"channels.*got 2"),
        ({"depth": "huge"}, r"depth 'huge'"),
        ({"kernel_size": 3}, r"kernel_size.*got 3"),
        ({"width": 0}, r"width.*got 0"),
        ({"conditioning": "cgan", "num_classes": 0}, r"cgan.*num_classes.*got 0"),
        ({"conditioning": "infogan"}, r"conditioning 'infogan'"),
    ],
)
@pytest.mark.parametrize(
    "config_cls, model_cls",
    [(GeneratorConfig, Generator), (DiscriminatorConfig, Discriminator)],
)
def test_bad_config_raises_at_construction(config_cls, model_cls, bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        model_cls(config_cls(**bad))
    with pytest.raises(ValueError, match=pattern):
        config_cls(**bad).check()


def test_generator_z_dim_must_be_positive():
    with pytest.raises(ValueError, match=r"z_dim.*got 0"):
        Generator(GeneratorConfig(z_dim=0))


@pytest.mark.parametrize(
    "config",
    [
        GeneratorConfig(
            image_size=64,
            channels=3,
            z_dim=32,
            width=8,
            depth="large",
            batchnorm=False,
            spectral_norm=True,
            kernel_size=5,
            linear_first=True,
            conditioning="acgan",
            num_classes=7,
            embed_dim=9,
        ),
        DiscriminatorConfig(
            image_size=32,
            channels=3,
            width=8,
            depth="medium",
            batchnorm=False,
            spectral_norm=True,
            kernel_size=5,
            conditioning="cgan",
            num_classes=7,
        ),
    ],
)
def test_config_round_trip_rebuilds_the_same_model(config):
    values = json.loads(json.dumps(config.to_dict()))  # as a checkpoint stores it
    again = type(config).from_dict(values)
    assert again == config and again is not config
    model_cls = Generator if isinstance(config, GeneratorConfig) else Discriminator
    model = model_cls(config).eval()
    rebuilt = model_cls(again).eval()
    rebuilt.load_state_dict(model.state_dict())  # strict: same layers, same shapes
    labels = torch.arange(2)
    if model_cls is Generator:
        x = model.sample_noise(2)
    else:
        x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x, labels), rebuilt(x, labels))


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("conditioning", ["none", "cgan"])
def test_generator_step_reaches_g_through_a_frozen_d(conditioning):
    torch.manual_seed(0)
    G = make_g(image_size=28, conditioning=conditioning)
    D = make_d(image_size=28, conditioning=conditioning)
    D.requires_grad_(False)
    d_before = {k: v.clone() for k, v in D.state_dict().items()}
    z = G.sample_noise(4).requires_grad_(True)
    labels = labels_for(conditioning, 4)
    logits = D(G(z, labels), labels)  # (4,)
    nn.functional.softplus(-logits).mean().backward()  # non-saturating G loss
    for name, p in G.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert all(p.grad is None for p in D.parameters())
    for k, v in D.state_dict().items():
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(v, d_before[k]), k


def test_discriminator_step_on_detached_fakes_leaves_g_alone():
    torch.manual_seed(0)
    G, D = make_g(image_size=28), make_d(image_size=28)
    fake = G(G.sample_noise(4))
    D(fake.detach()).mean().backward()
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())
