#!/usr/bin/env bash
# The whole mirray pipeline under local Ray on a lent GPU machine (no internet there). Carry, besides .gpu/
# (see gpu_separation.sh), .whl/ holding cp312 wheels of what that machine's image lacks: ray (its Java jars
# and the rllib/serve/tune/train/llm libraries stripped, to fit the 64 MiB carry limit), librosa, soxr,
# mutagen, pyebur128, music21 (corpus stripped), audioread, pooch, platformdirs, decorator, chardet,
# jsonpickle, more-itertools, webcolors, jsonschema, jsonschema-specifications, referencing, rpds-py.
# Tables go to stdout and $OUT/gpu_pipeline.log; Ray's own log lines to $OUT/ray.log.
set -euo pipefail
ln -sfn ../configs mirray/configs  # mirray.configs is configs/ once installed; here it runs from the tree
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD PYTHONUNBUFFERED=1
LOG=${OUT:-/tmp}/gpu_pipeline.log
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$LOG"
python3 -c "import torch, ray, pyarrow, numba; print('torch', torch.__version__, 'ray', ray.__version__, 'pyarrow', pyarrow.__version__, 'numba', numba.__version__)" | tee -a "$LOG"
python3 -c "import mirray.pipeline.graph, mirray.udfs.theory, mirray.udfs.separation, librosa, pyebur128, mutagen, soxr; print('imports ok')" | tee -a "$LOG"
python3 -m mirray.pipeline.cli warmup 2>&1 | tee -a "$LOG"
python3 benchmarks/pipeline_throughput.py --songs ${SONGS:-48} --song-sec ${SONG_SEC:-240} --num-gpus ${NUM_GPUS:-1 0.5} \
  --workdir /tmp/pipe 2>>"${OUT:-/tmp}/ray.log" | tee -a "$LOG"
