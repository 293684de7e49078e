#!/usr/bin/env bash
# Installs the competitor frameworks into target/competitors-venv (about 6 GB: PyPI's torch
# wheel brings its CUDA libraries, unused here).
# Usage: bash bench/competitors/install.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv target/competitors-venv
target/competitors-venv/bin/pip install -q -r bench/competitors/requirements.txt
target/competitors-venv/bin/python -c "import torch, jax; print('torch', torch.__version__, 'jax', jax.__version__)"
