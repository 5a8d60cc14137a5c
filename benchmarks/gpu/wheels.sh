#!/usr/bin/env bash
# Fill build/wheels/ with the wheels the GPU machine lacks (it has no network).
#
# Run here, where pip reaches the package index. The GPU machine runs CPython 3.12
# on x86-64 and already has torch, torchvision, numpy, matplotlib and pillow, so
# those are never downloaded. run.sh installs from this folder with --no-index.
#
# Usage: bash benchmarks/gpu/wheels.sh [--lean]
#   --lean  skip scipy, threadpoolctl and pytest (the GPU image lists them already;
#           saves about 35 MiB of the 64 MiB that may travel).
set -euo pipefail

cd "$(dirname "$0")/../.."
DEST=build/wheels
LEAN=0
case "${1:-}" in
  "") ;;
  --lean) LEAN=1 ;;
  *) echo "wheels.sh: unknown option '$1' (the only option is --lean)" >&2; exit 2 ;;
esac

PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python
TARGET=(
  --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux_2_28_x86_64 --platform any
  --dest "$DEST" --quiet --disable-pip-version-check
)

rm -rf "$DEST"
mkdir -p "$DEST"

# ipywidgets and IPython with everything they need (none of them pulls numpy)
"$PYTHON" -m pip download "${TARGET[@]}" ipywidgets ipython traitlets comm
if [ "$LEAN" = 0 ]; then
  # scipy alone: its one need, numpy, is on the GPU machine already
  "$PYTHON" -m pip download "${TARGET[@]}" --no-deps scipy
  "$PYTHON" -m pip download "${TARGET[@]}" threadpoolctl pytest
fi

ls -1 "$DEST"
echo "total: $(du -sh "$DEST" | cut -f1) in $(ls "$DEST" | wc -l) files ($DEST)"
