# The two commands of the README: `make run` and `make test`.
.PHONY: run test setup eval

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/qa serve

test: setup
	@bash scripts/install-browser.sh
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest

eval: setup
	.venv/bin/qa eval --set jdm
