"""The command line every competitor script shares: --check, --time and the model sizes."""

import argparse

# (flag, default) of the sizes a timing run takes
SIZES = [("d", 32), ("T", 16), ("k", 2), ("width", 64), ("batch", 256), ("m", 8192),
         ("epochs", 2), ("threads", 2)]


def parser(dispatches):
    """The shared parser, with `--dispatch` over `dispatches` (the first is the default)."""
    p = argparse.ArgumentParser()
    p.add_argument("--check", nargs=4, metavar=("CKPT", "X", "Y", "LOSS_JSON"))
    p.add_argument("--time", action="store_true")
    p.add_argument("--dispatch", default=dispatches[0], choices=dispatches)
    for name, default in SIZES:
        p.add_argument(f"--{name}", type=int, default=default)
    return p


def size_flags(d, t, k, width, batch, m, epochs, threads):
    """The size flags of one timing run, for a subprocess command line."""
    values = [d, t, k, width, batch, m, epochs, threads]
    return [x for (name, _), v in zip(SIZES, values) for x in (f"--{name}", str(v))]
