"""The canonical smoe model (../../../shared/DESIGN.md) in PyTorch, eager or torch.compile.

Linear router z = W x + b; top-k softmax gate (renormalised over the k selected logits,
ties to the lower index); depth-1 MLP experts (Linear d->width, ReLU, Linear width->1);
f = sum_j w_j h_j(x); loss = mean softplus(-y f) + alpha * T * sum_j frac_j P_j (Switch
balance, all k slots, P = batch mean of the full softmax); Adam.

The parameters are a dict of plain tensors (`init`'s layout: w0 [d, T*width], so the first
layers of all experts are one GEMM). Three dispatches: `dense` runs every expert on every row
and gathers the k selected outputs; `capacity` is GShard-style (as in jax_moe.py: at most
C = ceil(1.25 * b * k / T) assignments per expert, rows gathered by index into a [T, C, d]
block, one batched matmul); `loop` gathers each expert's rows and runs it on them alone.

Eager trains with autograd and fused torch.optim.Adam. `--compile` compiles the whole
training step (torch.func.grad of the objective and a hand-written Adam) into one
torch.compile graph (fullgraph; `loop` has data-dependent shapes, so it is not compiled).

    python torch_moe.py --check CKPT X.npy Y.npy LOSS_JSON   # loss on smoe's weights
    python torch_moe.py --time --d 32 --T 16 --k 2 ...        # training samples/s (JSON line)
"""

import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

import cli


def init(d, t, k, width, gen):
    """Random parameters (router W [d, T], expert j's first layer in columns j*width.. of w0)."""
    r = lambda *s: torch.randn(*s, generator=gen)
    return {"rw": r(d, t) / d**0.5, "rb": torch.zeros(t), "w0": r(d, t * width) / d**0.5,
            "b0": torch.zeros(t * width), "w1": r(t, width) / width**0.5, "b1": torch.zeros(t)}


def load_smoe(path, t):
    """Parameters in `init`'s layout from an smoe checkpoint (`experts.{j}.layers.{l}.*`)."""
    st = {n: torch.from_numpy(np.ascontiguousarray(a)).float() for n, a in load_file(path).items()}
    e = lambda n: torch.stack([st[f"experts.{j}.layers.{n}"] for j in range(t)])
    w0 = e("0.weight")  # [T, width, d]
    return {"rw": st["router.weight"].T.contiguous(), "rb": st["router.bias"],
            "w0": w0.permute(2, 0, 1).reshape(w0.shape[2], -1).contiguous(),
            "b0": e("0.bias").reshape(-1), "w1": e("1.weight")[:, 0], "b1": e("1.bias")[:, 0]}


def forward(p, x, k, dispatch, capacity_factor=1.25):
    """(f, z, idx): the model output, the router logits and the k selected experts per row."""
    (b, d), (t, width) = x.shape, p["w1"].shape
    z = x @ p["rw"] + p["rb"]
    top, idx = torch.topk(z, k, dim=1, sorted=True)
    gate = torch.softmax(top, dim=1)
    if dispatch == "dense":
        h = torch.relu(x @ p["w0"] + p["b0"]).view(b, t, width)
        out = (h * p["w1"]).sum(2) + p["b1"]
        return (torch.gather(out, 1, idx) * gate).sum(1), z, idx
    if dispatch == "capacity":
        cap = min(b, math.ceil(capacity_factor * b * k / t))
        e = idx.T.reshape(-1)  # slot-major: every row's slot 0 before any slot 1
        pos = torch.gather(F.one_hot(e, t).cumsum(0), 1, e[:, None])[:, 0] - 1
        dest = torch.where(pos < cap, e * cap + pos, t * cap)  # t*cap: dropped
        rows = torch.arange(b).repeat(k)
        slot_row = torch.full((t * cap + 1,), b).scatter(0, dest, rows)[: t * cap]  # b: empty
        xin = torch.cat([x, x.new_zeros(1, d)])[slot_row].view(t, cap, d)
        w0 = p["w0"].view(d, t, width).transpose(0, 1)
        h = torch.relu(torch.bmm(xin, w0) + p["b0"].view(t, 1, width))
        out = (h * p["w1"][:, None, :]).sum(2) + p["b1"][:, None]
        out = torch.cat([out.reshape(-1), out.new_zeros(1)])
        return (out[dest].view(k, b) * gate.T).sum(0), z, idx
    f = torch.zeros(b, dtype=x.dtype)
    flat, gflat = idx.reshape(-1), gate.reshape(-1)
    rows = torch.arange(b).repeat_interleave(k)
    w0, b0 = p["w0"].view(d, t, width), p["b0"].view(t, width)
    for j in range(t):
        sel = (flat == j).nonzero(as_tuple=True)[0]
        if sel.numel() == 0:
            continue
        r = rows[sel]
        o = torch.relu(x[r] @ w0[:, j] + b0[j]) @ p["w1"][j] + p["b1"][j]
        f = f.index_add(0, r, o * gflat[sel])
    return f, z, idx


def objective(p, x, y, k, dispatch, alpha, capacity_factor=1.25):
    f, z, idx = forward(p, x, k, dispatch, capacity_factor)
    data = F.softplus(-y * f).mean()
    t = z.shape[1]
    frac = torch.zeros(t).index_add(0, idx.reshape(-1), torch.ones(idx.numel())) / idx.numel()
    return data + alpha * t * (frac * torch.softmax(z, dim=1).mean(0)).sum()


def check(args):
    x = torch.from_numpy(np.load(args.check[1])).float()
    y = torch.from_numpy(np.load(args.check[2])).float()
    want = json.load(open(args.check[3]))
    p = load_smoe(args.check[0], want["T"])
    out = {}
    with torch.no_grad():
        for dispatch in ["dense", "capacity", "loop"]:
            # capacity factor T: nothing dropped, so every dispatch computes the same loss
            out[dispatch] = objective(p, x, y, want["k"], dispatch, want["alpha"],
                                      capacity_factor=want["T"]).item()
    print(json.dumps({"want": want["total"], "got": out}))


def adam_step(k, dispatch, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
    """step(p, m, v, i, x, y) -> loss: one Adam step, updating p, m, v in place (i: a 0-d
    tensor counting steps, so a compiled step does not recompile as it grows)."""
    value_and_grad = torch.func.grad_and_value(
        lambda p, x, y: objective(p, x, y, k, dispatch, 0.01))

    def step(p, m, v, i, x, y):
        g, loss = value_and_grad(p, x, y)
        i.add_(1)
        c1, c2 = 1 - b1**i, 1 - b2**i
        for n in p:
            m[n].mul_(b1).add_(g[n], alpha=1 - b1)
            v[n].mul_(b2).addcmul_(g[n], g[n], value=1 - b2)
            p[n].sub_(lr * (m[n] / c1) / ((v[n] / c2).sqrt() + eps))
        return loss
    return step


def timing(args):
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(args.m, args.d, generator=g)
    y = torch.where(torch.randn(args.m, generator=g) > 0, 1.0, -1.0)
    p = init(args.d, args.T, args.k, args.width, g)
    if args.compile:
        m = {n: torch.zeros_like(a) for n, a in p.items()}
        v = {n: torch.zeros_like(a) for n, a in p.items()}
        i = torch.zeros(())
        step = torch.compile(adam_step(args.k, args.dispatch), fullgraph=True, dynamic=False)
        train = lambda xb, yb: step(p, m, v, i, xb, yb)
    else:
        for a in p.values():
            a.requires_grad_(True)
        opt = torch.optim.Adam(p.values(), lr=1e-2, fused=True)

        def train(xb, yb):
            opt.zero_grad(set_to_none=True)
            objective(p, xb, yb, args.k, args.dispatch, 0.01).backward()
            opt.step()
    nb = args.m // args.batch
    for _ in range(3):  # warm-up (compilation)
        train(x[: args.batch], y[: args.batch])
    start = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(args.m, generator=g)
        xs, ys = x[perm], y[perm]
        for j in range(nb):
            train(xs[j * args.batch : (j + 1) * args.batch], ys[j * args.batch : (j + 1) * args.batch])
    secs = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": args.epochs * nb * args.batch / secs, "secs": secs}))


if __name__ == "__main__":
    p = cli.parser(["dense", "capacity", "loop"])
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    if a.compile and a.dispatch == "loop":
        p.error("--compile needs fixed shapes: --dispatch dense or capacity")
    check(a) if a.check else timing(a)
