# Every target creates .venv on first use; later runs reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
WORKSPACE ?= workspace
LAB_ARGS ?=  # more options for jupyter lab, e.g. LAB_ARGS=--no-browser
# tests on two processes, each file (each notebook's cells) kept on one of them;
# PARALLEL= runs them in one process
PARALLEL ?= -n 2 --dist loadfile
# Jupyter refuses to run as root unless told to (containers, CI machines)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test rehearsal course book book-check student reset bench browser clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,book]"
	touch $(STAMP)

lab: $(STAMP)  ## set up and open your workspace in JupyterLab (your copies are never overwritten)
	$(BIN)/python -m gancourse workspace --dir $(WORKSPACE)
	$(BIN)/jupyter lab --notebook-dir=$(WORKSPACE) --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) $(LAB_ARGS)

browser:  ## Debian's chromium for the browser test (installed when missing, as root)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	|| { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	       apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	     else echo "note: no chromium, and no root to install it: the browser test is skipped"; fi; }

test: $(STAMP) browser  ## set up and run every test in quick mode, then every notebook in a rehearsal of full mode
	GANCOURSE_QUICK=1 GANCOURSE_HEADLESS=1 $(BIN)/python -m pytest $(PARALLEL)
	GANCOURSE_REHEARSAL=1 GANCOURSE_HEADLESS=1 $(BIN)/python -m pytest $(PARALLEL) notebooks

rehearsal: $(STAMP)  ## every notebook in full mode's settings on stand-in datasets, 2 steps per budget
	GANCOURSE_REHEARSAL=1 GANCOURSE_HEADLESS=1 $(BIN)/python -m pytest notebooks

course: $(STAMP)  ## execute every notebook into build/course/*.html (MODE=laptop or MODE=full; default quick)
	GANCOURSE_MODE=$(or $(MODE),quick) GANCOURSE_HEADLESS=1 $(BIN)/jupyter nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=-1 --output-dir build/course notebooks/*.ipynb

book: $(STAMP)  ## run every notebook into an offline website, build/book/html (MODE=laptop|quick|full, SOLUTIONS=hide|remove, NOTEBOOKS="00 05")
	$(BIN)/python -m book.build --mode "$(or $(MODE),laptop)" --solutions "$(or $(SOLUTIONS),hide)" \
		--notebooks "$(NOTEBOOKS)"

book-check: $(STAMP) browser  ## open every page of build/book/html in headless Chromium, offline; screenshots in build/book-screens
	$(BIN)/python -m book.check build/book/html --screens build/book-screens

student: $(STAMP)  ## make the workspace's missing student copies without opening JupyterLab
	$(BIN)/python -m gancourse workspace --dir $(WORKSPACE)

reset: $(STAMP)  ## a fresh copy of notebook NB (make reset NB=05); the old one is kept beside it
	$(BIN)/python -m gancourse workspace --dir $(WORKSPACE) --reset "$(NB)"

bench: $(STAMP)  ## run the benchmarks and record their results
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
