# The README's two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CASE ?= demo/Demo.triage

.PHONY: run test test-all install demo bench package package-smoke clean lint

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python pyproject.toml
	# torch first and pinned: it takes the CPU wheel; an unbounded torch pulls a CUDA build.
	$(BIN)/pip install -q "torch==2.13.0" || $(BIN)/pip install -q "torch>=2.2,<2.14" --index-url https://download.pytorch.org/whl/cpu
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m triage_app.demo $(DEMO_CASE)

run: demo
	$(BIN)/triage gui $(DEMO_CASE)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider
	$(BIN)/lint-imports

test-all: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --runslow

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

package: $(STAMP)
	$(BIN)/pip install -q -e ".[package]"
	$(BIN)/pyinstaller packaging/triage.spec --noconfirm --distpath dist --workpath build
	@du -sh dist/triage

package-smoke: $(STAMP)
	@test -x dist/triage/triage || { echo "no bundle: run make package first"; exit 2; }
	$(BIN)/python packaging/smoke_test.py --bundle dist/triage

clean:
	rm -rf $(VENV) build dist *.egg-info demo
