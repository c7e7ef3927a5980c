# `make run`: set up .venv, index seeds/, serve on 127.0.0.1:8000.
# `make test`: set up .venv with the test tools, run the test suite.
PY := .venv/bin/python
QA := .venv/bin/qa

.PHONY: run test setup setup-dev setup-browser index bench lint clean

setup:
	bash scripts/setup.sh

setup-dev:
	bash scripts/setup.sh dev

setup-browser:
	bash scripts/setup-browser.sh

index: setup
	$(QA) index seeds/

run: index
	$(QA) serve

test: setup-dev setup-browser
	bash scripts/test.sh

bench: setup
	$(PY) bench/latency.py

lint: setup-dev
	.venv/bin/ruff check qa index eval train tests bench

clean:
	rm -rf .venv data runs
