#!/usr/bin/env bash
# Demucs GPU throughput on a lent device machine (no internet there): carry .gpu/ holding
#   .gpu/site/{demucs,julius}  (copied from .venv's site-packages; pure Python)
#   .gpu/whl/*.whl             (soundfile, cffi, pycparser for the machine's cp312)
# and run `bash benchmarks/gpu_separation.sh`. Tables go to stdout and $OUT/gpu_separation.log.
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD PYTHONUNBUFFERED=1
LOG=${OUT:-/tmp}/gpu_separation.log
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv | tee "$LOG"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$LOG"
B="python3 benchmarks/separation_throughput.py --songs ${SONGS:-12} --song-sec ${SONG_SEC:-60} --device cuda"
# each step runs unless its variable is set empty, e.g. BATCHES= STEM_BATCHES= ACTORS="1 2 3" bash ...
[ -z "${BATCHES-4 8 16 32 64}" ] || $B --batch-sizes ${BATCHES-4 8 16 32 64} 2>&1 | tee -a "$LOG"
[ -z "${STEM_BATCHES-8 16 32}" ] || $B --batch-sizes ${STEM_BATCHES-8 16 32} --write-stems 2>&1 | tee -a "$LOG"
[ -z "${ACTORS-1 2 3}" ] || $B --batch-sizes 8 --write-stems --processes ${ACTORS-1 2 3} 2>&1 | tee -a "$LOG"
[ -z "${FP32:-}" ] || $B --batch-sizes $FP32 --no-mixed-precision 2>&1 | tee -a "$LOG"
