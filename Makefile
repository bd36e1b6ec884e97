# make demo: set up .venv and train the demo GAN; make test: the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WORKDIR ?= runs/default
FASHION_MNIST_DEB_DIR := /usr/share/datasets/fashion-mnist

.PHONY: demo test data bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[train,test]'
	touch $@

# Fashion-MNIST offline: Debian's package when we are root, else a TFDS copy (needs internet).
data: $(VENV)/.installed
	@if [ -d $(FASHION_MNIST_DEB_DIR) ]; then \
	  echo "Fashion-MNIST: found $(FASHION_MNIST_DEB_DIR)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q dataset-fashion-mnist || (apt-get update -q && apt-get install -y -q dataset-fashion-mnist)); \
	else \
	  $(PY) -c "import tensorflow_datasets as tfds; tfds.builder('fashion_mnist').download_and_prepare()"; \
	fi

demo: data
	$(PY) main.py --config=configs/default.py --workdir=$(WORKDIR)
	@echo "Samples: $(WORKDIR)/samples (grids per step, training.gif); TensorBoard: $(VENV)/bin/tensorboard --logdir=$(WORKDIR)"

# Two or more workers (pytest-xdist), whole files each: session fixtures are built once per worker.
test: data
	$(PY) -m pytest -q -n auto --dist loadfile

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	PYTHONPATH=. $(PY) benchmarks/train_step.py --model=mlp,dcgan28 --batch_size=64 --dtype=float32,bfloat16 --compare=torch

clean:
	rm -rf $(VENV) runs
