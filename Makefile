# The two commands of the quickstart. Both create (or reuse) .venv and install what they need.
#   make test   run the test suite
#   make demo   run the embedded default end to end (hmr-quickstart: synthetic data, training
#               with configs/quickstart.py, evaluation, export, demo; a rerun reuses what is done)
# EXTRAS=gpu,test installs the CUDA build of TensorFlow instead of the CPU one.

comma := ,
VENV ?= .venv
EXTRAS ?= cpu,test
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: test demo clean

$(STAMP): setup.py
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

test: $(STAMP)
	$(PYTHON) -m pytest

demo: $(STAMP)
	$(VENV)/bin/hmr-quickstart --output demo_output

clean:
	rm -rf $(VENV) demo_output .pytest_cache
