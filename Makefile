# Everything installs into .venv from this repo's own files. torch==2.13.0 (CPU) goes first: a bare
# torch requirement would pull a multi-GB CUDA build (see ENVIRONMENT notes in README).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check
export RAY_AUTH_MODE ?= disabled
export HF_HUB_OFFLINE ?= 1

.PHONY: setup demo test clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test]'
	$(PIP) check
	$(VENV)/bin/mirray warmup
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/mirray demo --dir demo

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf demo .pytest_cache
