"""The canonical smoe model (../../../shared/DESIGN.md) in PyTorch, eager or torch.compile.

Linear router z = W x + b; top-k softmax gate (renormalised over the k selected logits,
ties to the lower index); depth-1 MLP experts (Linear d->width, ReLU, Linear width->1);
f = sum_j w_j h_j(x); loss = mean softplus(-y f) + alpha * T * sum_j frac_j P_j (Switch
balance, all k slots, P = batch mean of the full softmax); Adam.

Two dispatches: `dense` runs every expert on every row as batched matmuls and masks the
combine weights; `loop` gathers each expert's rows and runs it on them alone.

    python torch_moe.py --check CKPT X.npy Y.npy LOSS_JSON   # loss on smoe's weights
    python torch_moe.py --time --d 32 --T 16 --k 2 ...        # training samples/s (JSON line)
"""

import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

import cli


class Moe(torch.nn.Module):
    def __init__(self, d, t, k, width, dispatch):
        super().__init__()
        self.t, self.k, self.dispatch = t, k, dispatch
        self.rw = torch.nn.Parameter(torch.randn(t, d) / d**0.5)
        self.rb = torch.nn.Parameter(torch.zeros(t))
        self.w0 = torch.nn.Parameter(torch.randn(t, width, d) / d**0.5)
        self.b0 = torch.nn.Parameter(torch.zeros(t, width))
        self.w1 = torch.nn.Parameter(torch.randn(t, 1, width) / width**0.5)
        self.b1 = torch.nn.Parameter(torch.zeros(t, 1))

    def load_smoe(self, path):
        """Weights from an smoe checkpoint (PyTorch layout, `experts.{j}.layers.{l}.*`)."""
        st = load_file(path)
        g = lambda n: torch.from_numpy(np.ascontiguousarray(st[n])).to(self.rw.dtype)
        with torch.no_grad():
            self.rw.copy_(g("router.weight"))
            self.rb.copy_(g("router.bias"))
            for j in range(self.t):
                self.w0[j].copy_(g(f"experts.{j}.layers.0.weight"))
                self.b0[j].copy_(g(f"experts.{j}.layers.0.bias"))
                self.w1[j].copy_(g(f"experts.{j}.layers.1.weight"))
                self.b1[j].copy_(g(f"experts.{j}.layers.1.bias"))

    def forward(self, x):
        z = x @ self.rw.T + self.rb
        top, idx = torch.topk(z, self.k, dim=1, sorted=True)
        gate = torch.softmax(top, dim=1)
        if self.dispatch == "dense":
            h = torch.relu(torch.einsum("bd,twd->btw", x, self.w0) + self.b0)
            out = torch.einsum("btw,tow->bt", h, self.w1) + self.b1[:, 0]
            f = (torch.gather(out, 1, idx) * gate).sum(1)
        else:
            f = torch.zeros(x.shape[0], dtype=x.dtype)
            flat = idx.reshape(-1)
            rows = torch.arange(x.shape[0]).repeat_interleave(self.k)
            gflat = gate.reshape(-1)
            for j in range(self.t):
                sel = (flat == j).nonzero(as_tuple=True)[0]
                if sel.numel() == 0:
                    continue
                r = rows[sel]
                h = torch.relu(x[r] @ self.w0[j].T + self.b0[j])
                o = (h @ self.w1[j].T)[:, 0] + self.b1[j, 0]
                f = f.index_add(0, r, o * gflat[sel])
        return f, z, idx


def objective(model, x, y, alpha):
    f, z, idx = model(x)
    data = F.softplus(-y * f).mean()
    b, k, t = x.shape[0], model.k, model.t
    frac = F.one_hot(idx.reshape(-1), t).sum(0).to(x.dtype) / (b * k)
    p = torch.softmax(z, dim=1).mean(0)
    return data + alpha * t * (frac * p).sum()


def check(args):
    x = torch.from_numpy(np.load(args.check[1])).float()
    y = torch.from_numpy(np.load(args.check[2])).float()
    want = json.load(open(args.check[3]))
    t, k = want["T"], want["k"]
    st = load_file(args.check[0])
    width = st["experts.0.layers.0.weight"].shape[0]
    out = {}
    for dispatch in ["dense", "loop"]:
        m = Moe(x.shape[1], t, k, width, dispatch)
        m.load_smoe(args.check[0])
        with torch.no_grad():
            got = objective(m, x, y, want["alpha"]).item()
        out[dispatch] = got
    print(json.dumps({"want": want["total"], "got": out}))


def timing(args):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(args.m, args.d, generator=g)
    y = torch.where(torch.randn(args.m, generator=g) > 0, 1.0, -1.0)
    model = Moe(args.d, args.T, args.k, args.width, args.dispatch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)

    def loss_of(xb, yb):
        return objective(model, xb, yb, 0.01)

    if args.compile:
        # forward and its backward compiled as one graph each; the fused Adam stays eager
        loss_of = torch.compile(loss_of, fullgraph=args.dispatch == "dense")

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_of(xb, yb)
        loss.backward()
        opt.step()
        return loss
    nb = args.m // args.batch
    for i in range(3):  # warm-up (compilation)
        step(x[: args.batch], y[: args.batch])
    start = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(args.m, generator=g)
        for i in range(nb):
            sel = perm[i * args.batch : (i + 1) * args.batch]
            step(x[sel], y[sel])
    secs = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": args.epochs * nb * args.batch / secs, "secs": secs}))


if __name__ == "__main__":
    p = cli.parser(["dense", "loop"])
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    check(a) if a.check else timing(a)
