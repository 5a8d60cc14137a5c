# Every target creates .venv on first use; later runs reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# Jupyter refuses to run as root unless told to (containers, CI machines)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test course student bench browser clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $(STAMP)

lab: $(STAMP)  ## set up and open the course in JupyterLab
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG)

browser:  ## Debian's chromium for the browser test (installed when missing, as root)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	|| { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	       apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	     else echo "note: no chromium, and no root to install it: the browser test is skipped"; fi; }

test: $(STAMP) browser  ## set up and run every test, notebooks and browser included, in quick mode
	GANCOURSE_QUICK=1 GANCOURSE_HEADLESS=1 $(BIN)/python -m pytest

course: $(STAMP)  ## execute every notebook into build/course/*.html (FULL=1: full mode)
	GANCOURSE_QUICK=$(if $(FULL),0,1) GANCOURSE_HEADLESS=1 $(BIN)/jupyter nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=-1 --output-dir build/course notebooks/*.ipynb

student: $(STAMP)  ## write student copies with the solutions cleared to build/student
	$(BIN)/python -m gancourse student --out build/student

bench: $(STAMP)  ## run the benchmarks and record their results
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
