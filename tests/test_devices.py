"""The same training on every device the machine has (GPU ones marked `cuda`).

bf16 autocast against float32, the gradient penalty under autocast, exact resume,
and a checkpoint carried from the device to a CPU (a student trains on a hosted
GPU and takes the file home). On a machine without a GPU only the CPU cases run;
`benchmarks/gpu/run.sh` runs the `cuda` ones on a GPU.
"""

import pytest
import torch

from gancourse.cli import main
from gancourse.data import load_dataset
from gancourse.losses import gradient_penalty
from gancourse.training import GANTrainer, load_checkpoint

CUDA = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here"),
]
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]
KINDS = ["dcgan", "wgan", "wgan-gp", "cgan", "acgan"]
TINY = {"g": {"width": 8}, "d": {"width": 8}, "batch_size": 32, "progress": False}
# bf16 keeps 8 bits of precision (relative error up to 2**-8 per rounding): over
# 5 steps of a tiny GAN the losses stay within 2% (+0.02) of float32's; measured
# on a CPU the largest gap was 0.1% (WGAN's near-zero losses: 0.00005 absolute)
RELATIVE, ABSOLUTE = 0.02, 0.02

pytestmark = pytest.mark.usefixtures("one_thread")


def trainer(kind, device, data, **settings):
    return GANTrainer.from_preset(kind, data, device=device, **TINY, **settings)


def conv_dtype(run: GANTrainer) -> torch.dtype:
    """The dtype D's first convolution computes in, inside the trainer's autocast."""
    conv = next(m for m in run.D.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    hook = conv.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    real, labels = run.next_batch()
    with torch.no_grad(), run._autocast():
        run._d(real, labels)
    hook.remove()
    return seen[0]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
def test_bf16_autocast_tracks_float32(kind, device, mnist):
    runs = {
        amp: trainer(kind, device, mnist, amp=amp).fit(steps=5) for amp in (False, True)
    }
    assert conv_dtype(runs[True]) == torch.bfloat16  # it really computes in bf16
    assert conv_dtype(runs[False]) == torch.float32  # and float32 really does not
    for key in ("loss_d", "loss_g", "d_real", "d_fake"):
        fp32 = torch.tensor(runs[False].history[key])
        bf16 = torch.tensor(runs[True].history[key])
        assert torch.isfinite(bf16).all(), (key, bf16)
        gap = (bf16 - fp32).abs()
        assert (gap <= ABSOLUTE + RELATIVE * fp32.abs()).all(), (key, fp32, bf16)


@pytest.mark.parametrize("device", DEVICES)
def test_the_gradient_penalty_under_autocast_is_finite_and_matches(device, mnist):
    """Double backward through bf16 convolutions: the WGAN-GP critic step's core."""
    critic = trainer("wgan-gp", device, mnist)
    real = critic.next_batch()[0]
    fake = critic.G(*critic.noise(len(real))).detach()
    penalties = {}
    for amp in (False, True):
        critic.amp = amp
        with critic._autocast():
            rng = torch.Generator(critic.device).manual_seed(0)
            penalty = gradient_penalty(critic.D, real, fake, generator=rng)
        weights = list(critic.D.parameters())  # the last bias has no part in it
        grads = torch.autograd.grad(penalty, weights, allow_unused=True)
        grads = [g for g in grads if g is not None]
        assert len(grads) >= len(weights) - 1
        assert torch.isfinite(penalty) and all(torch.isfinite(g).all() for g in grads)
        penalties[amp] = penalty.item()
    assert penalties[True] == pytest.approx(penalties[False], rel=RELATIVE, abs=1e-3)


# On a CPU, resume is exact. On CUDA, cuDNN's backward convolutions add partial sums
# in an order that can change from call to call (atomics), so two runs of the same
# steps differ in the last bits; Adam's steps of lr * m / sqrt(v) keep such
# differences near lr * 1e-3 after a few steps: 1e-5 on weights of size ~0.02.
RESUME_TOLERANCE = {"cpu": 0.0, "cuda": 1e-5}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["dcgan", "wgan-gp", "acgan"])
def test_resume_gives_the_weights_of_an_uninterrupted_run(
    kind, device, mnist, tmp_path
):
    whole = trainer(kind, device, mnist).fit(steps=6)
    first = trainer(kind, device, mnist).fit(steps=3)
    path = first.save(tmp_path / "half.pt")
    resumed = GANTrainer.resume(path, mnist, device=device, progress=False)
    resumed.fit(steps=3)
    tolerance = RESUME_TOLERANCE[device]
    for a, b in ((whole.G, resumed.G), (whole.D, resumed.D)):
        pairs = zip(a.state_dict().items(), b.state_dict().values(), strict=True)
        for (name, x), y in pairs:
            gap = (x.double() - y.double()).abs().max().item()
            assert gap <= tolerance, f"{name} differs by {gap}"
    assert whole.history["loss_d"] == pytest.approx(
        resumed.history["loss_d"], abs=tolerance * 100
    )


@pytest.mark.parametrize("device", DEVICES)
def test_a_checkpoint_trained_on_the_device_samples_and_fine_tunes_on_a_cpu(
    device, tmp_path, capsys
):
    """A student trains on a hosted GPU and carries checkpoint.pt home."""
    out = tmp_path / "run"
    argv = ["train", "cgan", "--dataset", "mnist-5k", "--steps", "3", "--width",
            "8", "--batch-size", "32", "--device", device, "--out", out]  # fmt: skip
    argv.append("--quiet")
    assert main([str(a) for a in argv]) == 0
    state = load_checkpoint(out / "checkpoint.pt")  # loaded to the CPU
    tensors = [*state["generator"].values(), *state["discriminator"].values()]
    assert all(t.device.type == "cpu" for t in tensors)
    grid = tmp_path / "grid.png"
    sample = ["sample", out / "checkpoint.pt", "--out", grid, "--device", "cpu"]
    assert main([str(a) for a in sample]) == 0 and grid.stat().st_size > 0
    evaluate = ["evaluate", out / "checkpoint.pt", "--device", "cpu", "--n", "100"]
    assert main([str(a) for a in evaluate]) == 0
    assert "conditional accuracy" in capsys.readouterr().out
    tuned = GANTrainer.fine_tune(
        out / "checkpoint.pt", load_dataset("mnist-5k"), device="cpu", progress=False
    )
    tuned.fit(steps=2)
    assert tuned.step == 2 and tuned.device.type == "cpu"
    assert all(p.device.type == "cpu" for p in tuned.G.parameters())


@pytest.mark.parametrize("device", [pytest.param("cuda", marks=CUDA)])
def test_a_compiled_run_matches_eager_and_follows_the_sliders(device, mnist):
    """torch.compile on the GPU (a CPU compile takes minutes: the benchmark has it).

    The compiled passes are G's and D's forward passes: learning rates and step
    ratios stay Python settings, so a live panel's sliders act on a compiled run.
    """
    runs = {c: trainer("dcgan", device, mnist, compile=c) for c in (False, True)}
    for run in runs.values():
        run.fit(steps=3)
        run.lr_d, run.d_steps = 1e-3, 2  # what a slider does mid-run
        run.fit(steps=3)
    assert runs[True].compiled and runs[True].opt_d.param_groups[0]["lr"] == 1e-3
    for key in ("loss_d", "loss_g"):
        eager = torch.tensor(runs[False].history[key])
        compiled = torch.tensor(runs[True].history[key])
        gap = (compiled - eager).abs()
        assert (gap <= ABSOLUTE + RELATIVE * eager.abs()).all(), (key, eager, compiled)
