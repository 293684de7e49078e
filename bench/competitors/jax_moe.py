"""The canonical smoe model (see torch_moe.py) in JAX with jit, an epoch as one `lax.scan`.

Two dispatches: `dense` runs every expert on every row: the first layers of all experts as
one GEMM x @ w0 with w0 laid out [d, T*width], the second layers as a multiply-and-reduce,
then the k selected outputs gathered. `capacity` is GShard-style: each expert takes at most
C = ceil(1.25 * b * k / T) of a batch's (row, slot) assignments, slot 0 of every row first;
their rows are gathered by integer index into a [T, C, d] block, all experts run as one
batched matmul, and each assignment's output is gathered back (assignments over capacity
are dropped, as in GShard).

    python jax_moe.py --check CKPT X.npy Y.npy LOSS_JSON   # loss on smoe's weights
    python jax_moe.py --time --dispatch capacity ...        # training samples/s (JSON line)
"""

import json
import math
import os
import time
from functools import partial

import numpy as np

import cli


def setup(threads):
    """XLA's CPU thread count: its intra-op pool has one thread per core (2 here) by default."""
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags


def build(t, k, dispatch, capacity_factor=1.25):
    """forward(p, x) -> (f, z, idx) and objective(p, x, y, alpha) for parameters `p` in
    `from_torch_layout`'s layout (rw [d, T], w0 [d, T*width], b0 [T*width], w1 [T, width])."""
    import jax
    import jax.numpy as jnp

    def forward(p, x):
        b, d = x.shape
        z = x @ p["rw"] + p["rb"]
        top, idx = jax.lax.top_k(z, k)
        gate = jax.nn.softmax(top, axis=1)
        width = p["w1"].shape[1]
        if dispatch == "dense":
            h = jax.nn.relu(x @ p["w0"] + p["b0"]).reshape(b, t, width)
            out = (h * p["w1"]).sum(2) + p["b1"]
            f = (jnp.take_along_axis(out, idx, axis=1) * gate).sum(1)
        else:
            cap = min(b, math.ceil(capacity_factor * b * k / t))
            e = idx.T.reshape(-1)  # slot-major: every row's slot 0 before any slot 1
            onehot = jax.nn.one_hot(e, t, dtype=jnp.int32)
            pos = jnp.take_along_axis(jnp.cumsum(onehot, axis=0), e[:, None], 1)[:, 0] - 1
            dest = jnp.where(pos < cap, e * cap + pos, t * cap)  # t*cap: dropped
            rows = jnp.tile(jnp.arange(b), k)
            slot_row = jnp.full(t * cap + 1, b).at[dest].set(rows)[: t * cap]  # b: empty
            xin = jnp.concatenate([x, jnp.zeros((1, d), x.dtype)])[slot_row]
            w0 = p["w0"].reshape(d, t, width).transpose(1, 0, 2)
            h = jax.nn.relu(jnp.einsum("tcd,tdw->tcw", xin.reshape(t, cap, d), w0)
                            + p["b0"].reshape(t, 1, width))
            out = (h * p["w1"][:, None, :]).sum(2) + p["b1"][:, None]
            out = jnp.concatenate([out.reshape(-1), jnp.zeros(1, out.dtype)])
            f = (out[dest].reshape(k, b) * gate.T).sum(0)
        return f, z, idx

    def objective(p, x, y, alpha):
        f, z, idx = forward(p, x)
        data = jax.nn.softplus(-y * f).mean()
        frac = jnp.zeros(t).at[idx.reshape(-1)].add(1.0) / idx.size
        pm = jax.nn.softmax(z, axis=1).mean(0)
        return data + alpha * t * (jax.lax.stop_gradient(frac) * pm).sum()

    return forward, objective


def from_torch_layout(rw, rb, w0, b0, w1, b1):
    """Parameters in `build`'s layout from the PyTorch layout (w0 [T, width, d], w1 [T, 1, width])."""
    t, width, d = w0.shape
    return {"rw": rw.T, "rb": rb, "w0": w0.transpose(2, 0, 1).reshape(d, t * width),
            "b0": b0.reshape(t * width), "w1": w1.reshape(t, width), "b1": b1.reshape(t)}


def load_smoe(path, t):
    from safetensors.numpy import load_file

    st = load_file(path)
    e = lambda n: np.stack([st[f"experts.{j}.layers.{n}"] for j in range(t)])
    return from_torch_layout(st["router.weight"], st["router.bias"], e("0.weight"),
                             e("0.bias"), e("1.weight"), e("1.bias"))


def check(args):
    want = json.load(open(args.check[3]))
    x = np.load(args.check[1]).astype(np.float32)
    y = np.load(args.check[2]).astype(np.float32)
    p = load_smoe(args.check[0], want["T"])
    out = {}
    for dispatch in ["dense", "capacity"]:
        _, objective = build(want["T"], want["k"], dispatch, capacity_factor=float(want["T"]))
        out[dispatch] = float(objective(p, x, y, want["alpha"]))
    print(json.dumps({"want": want["total"], "got": out}))


def timing(args):
    import jax
    import jax.numpy as jnp

    _, objective = build(args.T, args.k, args.dispatch)
    rng = np.random.default_rng(0)
    d, t, w = args.d, args.T, args.width
    p = from_torch_layout(rng.standard_normal((t, d)) / d**0.5, np.zeros(t),
                          rng.standard_normal((t, w, d)) / d**0.5, np.zeros((t, w)),
                          rng.standard_normal((t, 1, w)) / w**0.5, np.zeros((t, 1)))
    p = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), p)
    x = jnp.asarray(rng.standard_normal((args.m, d)), jnp.float32)
    y = jnp.asarray(np.where(rng.standard_normal(args.m) > 0, 1.0, -1.0), jnp.float32)
    nb = args.m // args.batch
    grad = jax.grad(objective)
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8

    def step(state, batch):
        p, m, v, i = state
        g = grad(p, batch[0], batch[1], 0.01)
        i = i + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        c1, c2 = 1 - b1**i, 1 - b2**i
        p = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), p, m, v)
        return (p, m, v, i), None

    @partial(jax.jit, donate_argnums=0)
    def epoch(state, e):
        """One epoch: a fresh shuffle (seeded by the epoch number e), then nb Adam steps."""
        perm = jax.random.permutation(jax.random.fold_in(jax.random.key(0), e), args.m)
        perm = perm[: nb * args.batch]
        xs = x[perm].reshape(nb, args.batch, d)
        ys = y[perm].reshape(nb, args.batch)
        return jax.lax.scan(step, state, (xs, ys))[0]

    zeros = lambda: jax.tree.map(jnp.zeros_like, p)  # m and v: distinct buffers (donated)
    state = (p, zeros(), zeros(), jnp.float32(0))
    state = epoch(state, 0)  # compile
    jax.block_until_ready(state)
    start = time.perf_counter()
    for e in range(args.epochs):
        state = epoch(state, e + 1)
    jax.block_until_ready(state)
    secs = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": args.epochs * nb * args.batch / secs, "secs": secs}))


if __name__ == "__main__":
    args = cli.parser(["dense", "capacity"]).parse_args()
    setup(args.threads)
    check(args) if args.check else timing(args)
