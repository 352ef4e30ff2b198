# initlab — make [site] | serve | test | golden | bench | determinism | vendor | clean
#
#   PY      interpreter used to create the virtualenv (default python3; CI sets it)
#   CONFIG  experiment grid (default experiments.toml)
#   PORT / SERVE_PREFIX   where `make serve` publishes: http://127.0.0.1:$(PORT)/$(SERVE_PREFIX)/
#   PYTEST_ARGS           extra pytest arguments for `make test` (split into words; the others are
#                         passed as one quoted argument each)
#
# The virtualenv (.venv) is created when missing and `pip install -e '.[test]'` re-runs whenever
# pyproject.toml changes (the stamp file name holds a hash of its content).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := site
MAKEFLAGS += --no-print-directory

PY ?= python3
CONFIG ?= experiments.toml
PORT ?= 8000
SERVE_PREFIX ?= initlab
PYTEST_ARGS ?=

# Shell-quote one value: `make site CONFIG='a; echo x'` passes one argument and runs no command.
shq = '$(subst ','\'',$(1))'

VENV := .venv
VENV_PY := $(VENV)/bin/python
PYPROJECT_HASH := $(shell $(call shq,$(PY)) -c "import hashlib,sys; print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])" 2>/dev/null || cksum < pyproject.toml | cut -d' ' -f1)
STAMP := $(VENV)/.initlab-installed-$(PYPROJECT_HASH)

.PHONY: venv site build serve test golden browser-deps bench determinism vendor clean

venv: $(STAMP)

$(STAMP):
	@test -x $(VENV_PY) || { echo "creating $(VENV) with "$(call shq,$(PY)); $(call shq,$(PY)) -m venv $(VENV); }
	$(VENV_PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	@rm -f $(VENV)/.initlab-installed-*
	@touch $@

# Full pipeline: experiments -> figures/tables -> templates -> strict MkDocs build (site/public).
site: venv
	$(VENV_PY) -m generator site --config $(call shq,$(CONFIG))

# Only the HTML build of an already rendered site/docs (strict, atomic swap into site/public).
build: venv
	$(VENV_PY) -m generator.pipeline.build $(if $(INITLAB_SITE_URL),--site-url $(call shq,$(INITLAB_SITE_URL)))

# Serve the built site under its site_url prefix, like GitHub project Pages does.
serve: export INITLAB_SITE_URL := http://127.0.0.1:$(PORT)/$(SERVE_PREFIX)/
serve: site
	@root=$$(mktemp -d); trap 'rm -rf "$$root"' EXIT; \
	ln -s "$(CURDIR)/site/public" "$$root/"$(call shq,$(SERVE_PREFIX)); \
	echo "serving $$INITLAB_SITE_URL (Ctrl-C to stop)"; \
	cd "$$root" && "$(CURDIR)/$(VENV_PY)" -m http.server $(call shq,$(PORT)) --bind 127.0.0.1

# Debian chromium + Korean fonts for the browser tests (Playwright drives /usr/bin/chromium).
browser-deps: venv
	@if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/nanum ]; then \
	  echo "browser-deps: /usr/bin/chromium and fonts-nanum present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "browser-deps: installing chromium fonts-nanum"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-nanum; \
	else \
	  echo "browser-deps: /usr/bin/chromium or fonts-nanum missing and not root: skipping (browser tests will skip)"; \
	fi

# pytest exit 5 ("no tests collected") is a failure too: CI requires that tests ran.
test: venv browser-deps
	@echo "$(VENV_PY) -m pytest $(PYTEST_ARGS)"; rc=0; $(VENV_PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: FAILED: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# Rewrite the golden pages (tests/golden/*.md, checked by tests/test_golden.py) from their fixed data.
golden: venv
	$(VENV_PY) -m tests.golden.regenerate

# BASE=<rev>: instead, BASE and this tree side by side (ROUNDS=N): cold/warm/one-edit `site` times, each
# side's GEMM floor, bare mkdocs and cold / (floor + mkdocs); STAGES=1 adds core-seconds per stage.
bench: venv
	$(VENV_PY) -m generator bench --config $(call shq,$(CONFIG)) $(if $(BASE),--compare $(call shq,$(BASE)) --rounds $(call shq,$(or $(ROUNDS),1)) $(if $(filter-out 0,$(STAGES)),--stages))

# Two clean full builds must be byte-identical (sitemap.xml.gz and the search index included).
determinism: venv
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) clean; $(MAKE) site; cp -a site/public "$$tmp/first"; \
	$(MAKE) clean; $(MAKE) site; \
	if diff -r "$$tmp/first" site/public; then echo "determinism: OK, two clean builds are byte-identical"; \
	else echo "determinism: FAILED, the builds differ (see above)"; exit 1; fi

# Re-bundle the explorer's d3 (site/assets/vendor/d3/: d3.min.js + LICENSE) from the npm registry at the
# exact versions of site/vendor-src/d3/package-lock.json; same lockfile -> byte-identical bundle. Needs node/npm
# (the bundle is committed: the site itself builds offline without them).
vendor:
	cd site/vendor-src/d3 && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf site/docs site/public site/.public-* .cache
