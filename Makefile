# `make dev` runs the whole stack locally; `make test` runs every check and test. Both install what is
# missing first (npm packages when node_modules is stale, redis-server via apt when absent, and for
# `make test` Debian's chromium for the dashboard's browser tests and Debian's Django stack for the Django tests).
SHELL := /bin/bash
STAMP := node_modules/.naboom-installed

.PHONY: dev test build lint typecheck deps system-deps system-deps-browser bench clean

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMP)

system-deps:
	@./scripts/ensure-system-deps.sh

system-deps-browser:
	@./scripts/ensure-system-deps.sh --browser

build: deps
	npm run --silent build

lint: deps
	npm run --silent lint

typecheck: deps
	npm run --silent typecheck

test: deps system-deps-browser build
	npm run --silent typecheck
	npm run --silent lint
	npm test

dev: deps system-deps build
	node bin/naboom.js dev

bench: deps system-deps build
	npm run --silent bench

clean:
	rm -rf dist web/dist test-artifacts
