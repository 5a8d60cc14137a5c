"""Checks for notebook 08's exercises: D's label channel, ACGAN's D loss, class rows."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks.coerce import as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_normal
from gancourse.checks.probes import check_device_safe, on_meta
from gancourse.checks.reference import bce_with_logits
from gancourse.models import Generator, GeneratorConfig

f64 = torch.float64


def _label_plane(labels: torch.Tensor, embedding: nn.Embedding, height, width):
    """The reference label map: each label's embedding row as an image, (N, 1, H, W)."""
    return embedding(labels).view(-1, 1, height, width)


def _compare_input(conditional_input, images, labels, embedding) -> torch.Tensor:
    """Call the student's function and explain any difference from the reference."""
    n, c, height, width = images.shape
    try:
        out = call_student(conditional_input, images.clone(), labels.clone(), embedding)
    except ExerciseError as error:
        if height == width or "not written yet" in str(error):
            raise
        raise ExerciseError(
            f"right for square images, but for images {tuple(images.shape)}, "
            f"{height} high and {width} wide, {str(error).rstrip('.')}. The label "
            "map is (N, 1, H, W), "
            "height first, like the images: n, _, height, width = images.shape, "
            "then embedding(labels).view(n, 1, height, width)."
        ) from None
    out = as_tensor(out, "D's input")
    shape, want = tuple(out.shape), (n, c + 1, height, width)
    k = embedding.num_embeddings
    mistakes = [
        Mistake(
            f"the output has shape {shape}: twice the batch. You concatenated the "
            "label map along dim 0 (the batch), which makes the labels look like "
            "extra images. Concatenate along dim 1, the channels.",
            (2 * n, c, height, width),
        ),
        Mistake(
            f"the output has the images' own shape {shape}: the label map must be "
            f"an extra channel, (N, C + 1, H, W) = {want}, not added to the pixels "
            "or left out.",
            (n, c, height, width),
        ),
        Mistake(
            f"the output has {c} + {k} channels, one per class (a one-hot map?). "
            "Here D gets ONE learned label map: embedding(labels), an (N, H*W) "
            "tensor reshaped to (N, 1, H, W).",
            (n, c + k, height, width),
        ),
    ]
    if shape != want:
        raise ExerciseError(
            first_mistake(shape, mistakes)
            or f"for images {tuple(images.shape)} the input of D has shape {want} "
            f"(one extra channel); yours is {shape}."
        )
    plane = _label_plane(labels, embedding, height, width)
    if not torch.equal(out[:, :c].detach(), images):
        if torch.equal(out[:, 1:].detach(), images):
            raise ExerciseError(
                "the label map comes first and the images after it: put the image "
                "channels first and the label map last, "
                "torch.cat([images, plane], dim=1), as gancourse's Discriminator does."
            )
        raise ExerciseError(
            "the first C channels of D's input must be the images, unchanged."
        )
    last = out[:, c:].detach()
    other = (labels + 1) % embedding.num_embeddings
    out_other = call_student(conditional_input, images.clone(), other, embedding)
    if torch.equal(out_other.detach(), out.detach()):
        raise ExerciseError(
            "D's input is the same whatever the labels: the labels never reach D, so "
            "it cannot reject a perfect 3 that G was asked to draw as an 8. "
            "Look the labels up: embedding(labels)."
        )
    transposed = Mistake(
        "the label map is transposed: reshape each embedding row of H*W values "
        "row by row, embedding(labels).view(N, 1, H, W).",
        plane.transpose(2, 3),
    )
    swapped = Mistake(
        f"the label map is filled {height} values per row where the images have "
        f"{width}: view(n, 1, W, H) read back as (H, W). The height comes first: "
        "n, _, height, width = images.shape; embedding(labels).view(n, 1, height, "
        "width).",
        embedding(labels).view(-1, 1, width, height).transpose(2, 3),
    )
    if not close(last, plane):
        raise ExerciseError(
            first_mistake(last, [transposed, swapped])
            or "the last channel should be embedding(labels) reshaped to "
            "(N, 1, H, W); yours holds other values."
        )
    return out


def check_conditional_input(conditional_input) -> None:
    """Check D's input: the images, then the label's learned map as one more channel."""
    size, classes = 6, 4
    weights = random_normal(classes, size * size, seed=1)
    embedding = nn.Embedding.from_pretrained(weights, freeze=False)
    labels = torch.tensor([0, 3, 1, 2, 3])
    grey = random_normal(5, 1, size, size, seed=2)
    out = _compare_input(conditional_input, grey, labels, embedding)
    if not out.requires_grad:
        raise ExerciseError(
            "no gradient can flow into the embedding: D must LEARN its label maps, so "
            "do not use .detach(), .data or torch.no_grad() here."
        )
    out[:, -1].sum().backward()
    used = torch.zeros(classes, dtype=torch.bool)
    used[labels] = True
    grad = embedding.weight.grad
    if grad is None or not bool((grad[used].abs().sum(1) > 0).all()):
        raise ExerciseError(
            "no gradient reaches the embedding rows of the labels used: D must learn "
            "its label maps; build the map from embedding(labels)."
        )
    colour = random_normal(3, 3, size, size, seed=3)
    _compare_input(conditional_input, colour, torch.tensor([2, 0, 1]), embedding)
    height, width = 4, 9  # not square: H * W = 36 values per label, as before
    wide, labels = random_normal(3, 2, height, width, seed=4), torch.tensor([1, 3, 0])
    _compare_input(conditional_input, wide, labels, embedding)
    check_device_safe(
        conditional_input,
        [on_meta(wide, f64), on_meta(labels), on_meta(embedding, f64)],
        "conditional_input",
        dtype=f64,
    )
    print(
        "Correct: D sees the images and, as one more channel, a learned map of "
        "the label."
    )


def _reference_acgan(lr, cr, lf, cf, yr, yf) -> torch.Tensor:
    """ACGAN's D loss: real/fake BCE on logits plus class cross-entropy on both."""
    source = bce_with_logits(lr, 1.0) + bce_with_logits(lf, 0.0)
    return source + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def _acgan_mistakes(lr, cr, lf, cf, yr, yf) -> list[Mistake]:
    """The usual wrong versions of the loss, each with what to say about it."""
    real, fake = bce_with_logits(lr, 1.0), bce_with_logits(lf, 0.0)
    class_real, class_fake = F.cross_entropy(cr, yr), F.cross_entropy(cf, yf)
    squashed = bce_with_logits(lr.sigmoid(), 1.0) + bce_with_logits(lf.sigmoid(), 0.0)
    swapped = bce_with_logits(lr, 0.0) + bce_with_logits(lf, 1.0)
    return [
        Mistake(
            "you applied a sigmoid before binary_cross_entropy_with_logits, which "
            "applies its own: pass the raw logits.",
            squashed + class_real + class_fake,
        ),
        Mistake(
            "the class loss on the generated images is missing: ACGAN's D also "
            "classifies fakes, against the labels G was asked for (labels_fake).",
            real + fake + class_real,
        ),
        Mistake(
            "the class loss on the real images is missing: D learns the classes "
            "from real images with their true labels (labels_real).",
            real + fake + class_fake,
        ),
        Mistake(
            "the generated images are scored against the real images' labels: use "
            "labels_fake, the labels G was given when it made them.",
            real + fake + class_real + F.cross_entropy(cf, yr),
        ),
        Mistake(
            "the real-versus-fake part L_S is missing: add BCE-with-logits of the "
            "real logits against 1 and of the fake logits against 0.",
            class_real + class_fake,
        ),
        Mistake(
            "the real/fake targets are swapped: real images have target 1, "
            "generated ones target 0.",
            swapped + class_real + class_fake,
        ),
        Mistake(
            "the real-versus-fake loss on the generated images is missing.",
            real + class_real + class_fake,
        ),
        Mistake(
            "the real-versus-fake loss on the real images is missing.",
            fake + class_real + class_fake,
        ),
        Mistake(
            "you averaged the two real/fake terms but added the two class terms: "
            "that weighs L_S half as much as L_C. Add all four terms, as in the "
            "formula (or, a valid convention, halve all of them).",
            (real + fake) / 2 + class_real + class_fake,
        ),
    ]


def _acgan_inputs(seed: int, batch: int = 6, classes: int = 4, scale: float = 2.0):
    """Logits, class logits and labels for a real and a fake batch."""
    lr = scale * random_normal(batch, seed=seed)
    lf = scale * random_normal(batch, seed=seed + 1)
    cr = 2.0 * random_normal(batch, classes, seed=seed + 2)
    cf = 2.0 * random_normal(batch, classes, seed=seed + 3)
    yr = torch.arange(batch) % classes
    yf = (yr + 1 + torch.arange(batch) % 2) % classes  # never the real labels
    return lr, cr, lf, cf, yr, yf


def check_acgan_d_loss(acgan_d_loss) -> None:
    """Check L_S + L_C for D: BCE on logits (real 1, fake 0) + class CE on both."""
    inputs = [t.requires_grad_(t.is_floating_point()) for t in _acgan_inputs(0)]
    lr, cr, lf, cf, yr, yf = inputs
    out = call_student(acgan_d_loss, lr, cr, lf, cf, yr, yf)
    loss = as_tensor(out, "the loss acgan_d_loss returns", ())
    expected = _reference_acgan(lr, cr, lf, cf, yr, yf)
    # valid conventions: the mean of the real and the fake half, or of all four terms
    scale = next(
        (c for c in (1.0, 0.5, 0.25) if close(loss, c * expected, rtol=1e-5)), 1.0
    )
    expected = scale * expected
    if not close(loss, expected, rtol=1e-5, atol=1e-6):
        mistakes = _acgan_mistakes(lr, cr, lf, cf, yr, yf)
        raise ExerciseError(
            first_mistake(loss, mistakes, rtol=1e-5, atol=1e-6)
            or f"for this batch L_S + L_C = {expected.item():.4f}; yours is "
            f"{loss.item():.4f}. Add BCE-with-logits (real 1, fake 0) and the "
            "cross-entropy of the class logits on real and on fake images."
        )
    if not loss.requires_grad:
        raise ExerciseError(
            "the loss has no gradient: keep it in torch (no .item(), .detach() or "
            "torch.no_grad()) so D can be trained with it."
        )
    loss.backward()
    for name, tensor in [("logits_real", lr), ("class_real", cr)] + [
        ("logits_fake", lf),
        ("class_fake", cf),
    ]:
        if tensor.grad is None or not bool(tensor.grad.abs().sum() > 0):
            raise ExerciseError(
                f"no gradient reaches {name}: the loss must be built from it in torch."
            )
    extreme = _acgan_inputs(10, scale=200.0)
    big = call_student(acgan_d_loss, *extreme)
    big = as_tensor(big, "the loss acgan_d_loss returns", (), finite=False)
    if not close(big, scale * _reference_acgan(*extreme), rtol=1e-4):
        raise ExerciseError(
            "for logits of size 200 your loss is wrong or infinite: sigmoid followed "
            "by BCELoss saturates (log of 0 is clamped to -100). Use "
            "F.binary_cross_entropy_with_logits on the raw logits."
        )
    meta = [on_meta(t, f64) for t in _acgan_inputs(20)]
    check_device_safe(acgan_d_loss, meta, "acgan_d_loss", dtype=f64)
    if scale != 1:
        print(_ACGAN_NOTES[scale])
    print("Correct: D's loss is L_S + L_C, stable at any logit size.")


_ACGAN_NOTES = {
    0.5: "Note: your loss is half of L_S + L_C, the mean of the real and the fake "
    "half. That is a valid convention: it halves D's gradients, as halving its "
    "learning rate would, and leaves the balance of the four terms as it is. The "
    "course adds them, as in the formula.",
    0.25: "Note: your loss is the mean of the four terms, (L_S + L_C) / 4, as in the "
    "PyTorch-GAN ACGAN. That is a valid convention: it divides D's gradients by 4, "
    "as a 4 times smaller learning rate would, and keeps the balance of the terms. "
    "The course adds them, as in the formula.",
}


def _tiny_generator(num_classes: int) -> Generator:
    """A small conditional generator with fixed weights, built without global RNG."""
    config = GeneratorConfig(
        image_size=28,
        channels=1,
        z_dim=8,
        width=4,
        conditioning="cgan",
        num_classes=num_classes,
        embed_dim=4,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G = Generator(config)
    with torch.no_grad():  # BatchNorm statistics unlike a fresh layer's
        for layer in G.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.running_mean.copy_(
                    0.1 * random_normal(layer.num_features, seed=4)
                )
                layer.running_var.fill_(0.5)
    return G.train()


def check_one_row_per_class(one_row_per_class) -> None:
    """Check the per-class grid: K rows, one per class, the same z in every row."""
    _check_grid(one_row_per_class, classes=3, per_row=4, training=True)
    try:  # other sizes, and G in eval mode, which it must be left in
        _check_grid(one_row_per_class, classes=5, per_row=2, training=False)
    except ExerciseError as error:
        if "not written yet" in str(error):
            raise
        raise ExerciseError(
            f"right for 3 classes, 4 noise vectors and G in training mode, but for 5 "
            f"classes, 2 noise vectors and G in eval mode: {error}"
        ) from None
    G = _tiny_generator(3)
    z = random_normal(4, G.config.z_dim, seed=6)
    check_device_safe(
        one_row_per_class,
        [on_meta(G, f64), on_meta(z, f64), 3],
        "one_row_per_class",
        dtype=f64,
    )
    print(
        "Correct: one row per class, the same noise down each column, and G left in "
        "the mode it came in."
    )


def _check_grid(one_row_per_class, classes: int, per_row: int, training: bool):
    """The grid of `classes` rows of `per_row` images, from G in the given mode."""
    G = _tiny_generator(classes).train(training)
    z = random_normal(per_row, G.config.z_dim, seed=5)
    before = {name: t.clone() for name, t in G.state_dict().items()}
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def record(module, args):
        if len(args) == 2:
            calls.append((args[0].detach().clone(), args[1].detach().clone()))

    hook = G.register_forward_pre_hook(record)
    try:
        out = call_student(one_row_per_class, G, z.clone(), classes)
    finally:
        hook.remove()
    out = as_tensor(out, "the grid of images")
    expected_shape = (classes * per_row, 1, 28, 28)
    if tuple(out.shape) != expected_shape:
        raise ExerciseError(
            f"with {classes} classes and {per_row} noise vectors the grid holds "
            f"{classes} x {per_row} images, shape {expected_shape} (one batch for "
            f"show_images(..., nrow={per_row})); yours is {tuple(out.shape)}."
        )
    if out.requires_grad:
        raise ExerciseError(
            "the images carry a gradient graph: sample under torch.no_grad(), "
            "nothing is trained here."
        )
    if G.training != training:
        raise ExerciseError(
            "G came in in training mode and is left in eval mode: note G.training "
            "first and restore it with G.train(was_training), or later training "
            "runs with BatchNorm frozen."
            if training
            else "G came in in eval mode and is left in training mode: give G back "
            "in the mode it came in, G.train(was_training) with was_training = "
            "G.training noted first, not G.train(), which always switches to "
            "training."
        )
    if any(not torch.equal(before[name], t) for name, t in G.state_dict().items()):
        raise ExerciseError(
            "G changed while sampling: in training mode BatchNorm uses the batch's "
            "statistics and updates its running averages. Call G.eval() first."
        )
    if calls:
        seen_z = torch.cat([c[0] for c in calls])
        seen_labels = torch.cat([c[1] for c in calls])
        rows = torch.arange(classes).repeat_interleave(per_row)
        if torch.equal(seen_labels, torch.arange(classes).repeat(per_row)):
            raise ExerciseError(
                "your columns are classes and rows are noise vectors: each row is "
                "one class, so labels are [0, 0, 0, 0, 1, 1, ...], i.e. "
                "torch.arange(K).repeat_interleave(n), and z is z.repeat(K, 1)."
            )
        if not torch.equal(seen_labels, rows):
            raise ExerciseError(
                f"G was asked for labels {seen_labels.tolist()}; one row per class "
                f"means {rows.tolist()}."
            )
        if seen_z.shape != (classes * per_row, z.shape[1]) or not torch.equal(
            seen_z, z.repeat(classes, 1)
        ):
            raise ExerciseError(
                "G did not get the given z in every row: reuse the same noise for "
                "each class (z.repeat(K, 1)). With new noise per class the rows "
                "differ in style as well as class, and a column no longer shows one "
                "style drawn as every class."
            )
    G.eval()
    with torch.no_grad():
        expected = G(
            z.repeat(classes, 1), torch.arange(classes).repeat_interleave(per_row)
        )
    if not close(out, expected, atol=1e-5):
        raise ExerciseError(
            "the images differ from G(z.repeat(K, 1), arange(K).repeat_interleave(n)) "
            "with G in eval mode."
        )
