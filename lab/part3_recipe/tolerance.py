"""How far a grouped pilot model drifts from its members in floating point, to set the test's tolerance.

``python -m lab.part3_recipe.tolerance`` builds each design as a grouped model of 3 members,
for many random draws, in training and in evaluation mode, and prints the largest difference between
the grouped model (float32) and each member computed in float64, the exact answer, relative to the size
of what is compared: the outputs, and the first layer's gradients. Beside it, the same for the plain
float32 member, PyTorch's own rounding, which is larger on AVX2 and for some designs. It also prints the
difference that a real bug makes: one member's first weight moved by a hundredth of the largest.
Run it once natively and once as AVX2 (``bash scripts/as_avx2.sh python -m lab.part3_recipe.tolerance``); ``test_pilots.py`` sets its tolerance from both.
"""
from __future__ import annotations

import argparse
import copy
import sys

import torch
import torch.nn.functional as F

from mnist_helpers.cpu_kind import cpu_kind

from .pilots import grouped_model, plain_model


def members_of(grouped, design: str, n: int) -> list:
    """Plain models holding member i's slice of every grouped tensor."""
    members = [plain_model(design) for _ in range(n)]
    for i, member in enumerate(members):
        for (_, g), (_, p) in zip(grouped.state_dict().items(), member.state_dict().items()):
            with torch.no_grad():
                p.copy_(g if g.dim() == 0 else g.view(n, -1, *g.shape[1:])[i].reshape(p.shape))
    return members


def _relative(a: torch.Tensor, exact: torch.Tensor) -> float:
    return ((a.double() - exact).abs().max() / exact.abs().max()).item()


def drift(design: str, train: bool, seed: int, n: int = 3, batch: int = 16, perturb: float = 0.0) -> tuple:
    """(outputs, gradients, plain outputs, plain gradients, float64 gradients): the largest relative difference,
    over the members, of the grouped model and of the plain float32 member from the member in float64, and of
    the grouped model's gradients in float64. ``perturb`` moves member
    0's first weight by that fraction of its largest after the copy (a deliberate bug)."""
    torch.manual_seed(seed)
    grouped = grouped_model(design, n)
    members = members_of(grouped, design, n)
    if perturb:
        with torch.no_grad():
            first = next(members[0].parameters()).view(-1)
            first[0] += perturb * first.abs().max()
    x = torch.randn(batch, n, 28, 28)
    y = torch.randint(0, 10, (batch, n))
    grouped.train(train)
    out = grouped(x).view(batch, n, 10)
    F.cross_entropy(out.reshape(-1, 10), y.reshape(-1), reduction="none").view(batch, n).mean(0).sum().backward()
    grads = next(grouped.parameters()).grad.view(n, -1)
    grouped64 = copy.deepcopy(grouped).double()  # the same grouped model in float64: no float32 rounding left
    for p in grouped64.parameters():
        p.grad = None
    out64 = grouped64(x.double()).view(batch, n, 10)
    F.cross_entropy(out64.reshape(-1, 10), y.reshape(-1), reduction="none").view(batch, n).mean(0).sum().backward()
    grads64 = next(grouped64.parameters()).grad.view(n, -1)
    worst = [0.0] * 5
    for i, member in enumerate(members):
        exact = copy.deepcopy(member).double().train(train)
        e_out = exact(x[:, i:i + 1].double())
        F.cross_entropy(e_out, y[:, i]).backward()
        e_grad = next(exact.parameters()).grad.flatten()
        member.train(train)
        m_out = member(x[:, i:i + 1])
        F.cross_entropy(m_out, y[:, i]).backward()
        found = (_relative(out[:, i], e_out), _relative(grads[i], e_grad),
                 _relative(m_out, e_out), _relative(next(member.parameters()).grad.flatten(), e_grad),
                 _relative(grads64[i], e_grad))
        worst = [max(w, f) for w, f in zip(worst, found)]
    return tuple(worst)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.part3_recipe.tolerance",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=30, help="random draws per design and mode (default 30)")
    parser.add_argument("--designs", nargs="+", default=["S8", "P14", "F2"])
    args = parser.parse_args(argv)
    print(f"{cpu_kind()}, torch {torch.__version__}, {args.draws} draws each; relative to max |exact|")
    print(f"{'design':>6} {'mode':>5} {'grouped: outputs':>17} {'gradients':>10}   {'plain: outputs':>15} "
          f"{'gradients':>10}   {'float64 gradients':>17}   {'bug: outputs':>13} {'float64 gradients':>17}")
    for design in args.designs:
        for train in (True, False):
            runs = [drift(design, train, seed) for seed in range(args.draws)]
            bug = [drift(design, train, seed, perturb=1e-2) for seed in range(args.draws)]
            top = [max(r[k] for r in runs) for k in range(5)]
            print(f"{design:>6} {'train' if train else 'eval':>5} {top[0]:17.2e} {top[1]:10.2e}   {top[2]:15.2e} "
                  f"{top[3]:10.2e}   {top[4]:17.2e}   {min(r[0] for r in bug):13.2e} {min(r[4] for r in bug):17.2e}")
    print("grouped, plain, float64: the largest drift seen from the float64 member; bug: the smallest difference "
          "that moving one weight by 1e-2 of the largest made")
    return 0


if __name__ == "__main__":
    sys.exit(main())
