"""The canonical smoe model (see torch_moe.py) in JAX with jit, an epoch as one `lax.scan`.

Two dispatches: `dense` runs every expert on every row (batched einsums, masked combine);
`capacity` is GShard-style: each expert takes at most C = ceil(1.25 * b * k / T) of a batch's
(row, slot) assignments, slot 0 of every row first, gathered into a [T, C, d] block, so all
experts run as one batched matmul (assignments over capacity are dropped, as in GShard).

    python jax_moe.py --check CKPT X.npy Y.npy LOSS_JSON   # loss on smoe's weights (dense)
    python jax_moe.py --time --dispatch capacity ...        # training samples/s (JSON line)
"""

import json
import math
import os
import time

import numpy as np

import cli


def setup(threads):
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags


def build(t, k, dispatch, capacity_factor=1.25):
    import jax
    import jax.numpy as jnp

    def forward(p, x):
        z = x @ p["rw"].T + p["rb"]
        top, idx = jax.lax.top_k(z, k)
        gate = jax.nn.softmax(top, axis=1)
        b = x.shape[0]
        if dispatch == "dense":
            h = jax.nn.relu(jnp.einsum("bd,twd->btw", x, p["w0"]) + p["b0"])
            out = jnp.einsum("btw,tw->bt", h, p["w1"][:, 0]) + p["b1"][:, 0]
            f = (jnp.take_along_axis(out, idx, axis=1) * gate).sum(1)
        else:
            cap = min(b, math.ceil(capacity_factor * b * k / t))
            # slot-major order: every row's slot 0 before any slot 1
            onehot = jax.nn.one_hot(idx.T.reshape(-1), t)  # [k*b, T]
            pos = jnp.cumsum(onehot, axis=0) * onehot - 1  # position within its expert
            keep = (pos < cap) & (onehot > 0)
            disp = jax.nn.one_hot(jnp.where(keep, pos, -1).astype(jnp.int32), cap) * keep[..., None]
            disp = disp.reshape(k, b, t, cap).transpose(1, 0, 2, 3)  # [b, k, T, C]
            xin = jnp.einsum("bktc,bd->tcd", disp, x)
            h = jax.nn.relu(jnp.einsum("tcd,twd->tcw", xin, p["w0"]) + p["b0"][:, None, :])
            out = jnp.einsum("tcw,tw->tc", h, p["w1"][:, 0]) + p["b1"]
            f = jnp.einsum("bktc,tc,bk->b", disp, out, gate)
        return f, z, idx

    def objective(p, x, y, alpha):
        f, z, idx = forward(p, x)
        data = jax.nn.softplus(-y * f).mean()
        b = x.shape[0]
        frac = jax.nn.one_hot(idx.reshape(-1), t).sum(0) / (b * k)
        pm = jax.nn.softmax(z, axis=1).mean(0)
        return data + alpha * t * (jax.lax.stop_gradient(frac) * pm).sum()

    return forward, objective


def load_smoe(path, t):
    from safetensors.numpy import load_file

    st = load_file(path)
    e = lambda j, n: st[f"experts.{j}.layers.{n}"]
    return {
        "rw": st["router.weight"], "rb": st["router.bias"],
        "w0": np.stack([e(j, "0.weight") for j in range(t)]),
        "b0": np.stack([e(j, "0.bias") for j in range(t)]),
        "w1": np.stack([e(j, "1.weight") for j in range(t)]),
        "b1": np.stack([e(j, "1.bias") for j in range(t)]),
    }


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
    p = {
        "rw": rng.standard_normal((t, d)) / d**0.5, "rb": np.zeros(t),
        "w0": rng.standard_normal((t, w, d)) / d**0.5, "b0": np.zeros((t, w)),
        "w1": rng.standard_normal((t, 1, w)) / w**0.5, "b1": np.zeros((t, 1)),
    }
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

    @jax.jit
    def epoch(state, key):
        perm = jax.random.permutation(key, args.m)[: nb * args.batch]
        xs = x[perm].reshape(nb, args.batch, d)
        ys = y[perm].reshape(nb, args.batch)
        return jax.lax.scan(step, state, (xs, ys))[0]

    zeros = jax.tree.map(jnp.zeros_like, p)
    state = (p, zeros, zeros, jnp.float32(0))
    key = jax.random.PRNGKey(0)
    state = epoch(state, key)  # compile
    jax.block_until_ready(state)
    start = time.perf_counter()
    for e in range(args.epochs):
        state = epoch(state, jax.random.fold_in(key, e + 1))
    jax.block_until_ready(state)
    secs = time.perf_counter() - start
    print(json.dumps({"samples_per_sec": args.epochs * nb * args.batch / secs, "secs": secs}))


if __name__ == "__main__":
    args = cli.parser(["dense", "capacity"]).parse_args()
    setup(args.threads)
    check(args) if args.check else timing(args)
