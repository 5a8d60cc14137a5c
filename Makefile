# Every target creates .venv on first use; later runs reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# Jupyter refuses to run as root unless told to (containers, CI machines)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test course student bench clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $(STAMP)

lab: $(STAMP)  ## set up and open the course in JupyterLab
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG)

test: $(STAMP)  ## set up and run every test, notebooks included, in quick mode
	GANCOURSE_QUICK=1 $(BIN)/python -m pytest

course: $(STAMP)  ## execute every notebook into build/course/*.html (FULL=1: full mode)
	GANCOURSE_QUICK=$(if $(FULL),0,1) $(BIN)/jupyter nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=-1 --output-dir build/course notebooks/*.ipynb

student: $(STAMP)  ## write student copies with the solutions cleared to build/student
	$(BIN)/python -m gancourse student --out build/student

bench: $(STAMP)  ## run the benchmarks and record their results
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
