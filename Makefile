# initlab — make [site] | serve | test | lint | golden | lock | bench | determinism | vendor | clean
#
#   PY      interpreter used to create the virtualenv (default python3; CI sets it)
#   CONFIG  experiment grid (default experiments.toml)
#   PORT / SERVE_PREFIX   where `make serve` publishes: http://127.0.0.1:$(PORT)/$(SERVE_PREFIX)/
#   PYTEST_ARGS           extra pytest arguments for `make test` (split into words; the others are
#                         passed as one quoted argument each)
#   UPGRADE               `make lock UPGRADE=numpy,pandas` (or UPGRADE=all) moves those pins; without it
#                         `make lock` keeps every pin that still satisfies pyproject.toml
#
# The virtualenv (.venv) holds exactly the lock: requirements/runtime.txt for `make site` (and build,
# serve, bench, determinism), requirements/test.txt (the same versions plus the test extra) for
# `make test` and `golden`, each installed with `pip install --require-hashes`, then the project itself
# with --no-deps. The stamp file names hold a hash of pyproject.toml and both lock files; when one of
# them changes, .venv is created anew, so nothing outside the lock is left over from an earlier install.
# `make lock` recompiles both lock files from pyproject.toml (uv pip compile; README "Dependencies").

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
LOCK_RUNTIME := requirements/runtime.txt
LOCK_TEST := requirements/test.txt
LOCK_INPUTS := pyproject.toml $(LOCK_RUNTIME) $(LOCK_TEST)
ENV_HASH := $(shell $(call shq,$(PY)) -c "import hashlib,sys; h=hashlib.sha256(); [h.update(open(f,'rb').read()) for f in sys.argv[1:]]; print(h.hexdigest()[:16])" $(LOCK_INPUTS) 2>/dev/null || cat $(LOCK_INPUTS) | cksum | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.initlab-runtime-$(ENV_HASH)
TEST_STAMP := $(VENV)/.initlab-test-$(ENV_HASH)
PIP_INSTALL := $(VENV_PY) -m pip install --disable-pip-version-check -q
# No stamp of the current hash: the lock changed (or there is no venv yet), so start from an empty venv.
VENV_FRESH := if ! ls $(VENV)/.initlab-*-$(ENV_HASH) >/dev/null 2>&1; then rm -rf $(VENV); \
	echo "creating $(VENV) with "$(call shq,$(PY)); $(call shq,$(PY)) -m venv $(VENV); fi

# The lock's target (the header of each lock file says so too): wheels for other platforms are hashed
# as well, but the resolution (markers, requires-python) is this one's.
LOCK_PYTHON := 3.11.5
LOCK_PLATFORM := x86_64-unknown-linux-gnu
UV ?= uv
UV_VERSION := 0.13.9
comma := ,
LOCK_UPGRADE = $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(subst $(comma), ,$(UPGRADE)),--upgrade-package $(call shq,$(p))))

.PHONY: venv venv-test lock site build serve test lint golden browser-deps bench determinism vendor clean

venv: $(RUNTIME_STAMP)

venv-test: $(TEST_STAMP)

# The test lock holds the runtime lock's versions (compiled with -c runtime.txt): a test venv is a runtime venv.
$(RUNTIME_STAMP):
	@if [ -e $(TEST_STAMP) ]; then touch $@; exit 0; fi; \
	$(VENV_FRESH); \
	echo "installing $(LOCK_RUNTIME) (--require-hashes) and the project (--no-deps)"; \
	$(PIP_INSTALL) --require-hashes -r $(LOCK_RUNTIME); \
	$(PIP_INSTALL) --no-deps -e .; \
	touch $@

$(TEST_STAMP):
	@$(VENV_FRESH); \
	echo "installing $(LOCK_TEST) (--require-hashes) and the project (--no-deps)"; \
	$(PIP_INSTALL) --require-hashes -r $(LOCK_TEST); \
	$(PIP_INSTALL) --no-deps -e .; \
	touch $@

# Recompile the lock from pyproject.toml. Existing pins are kept while they satisfy pyproject.toml
# (UPGRADE moves them); the test lock is constrained to the runtime lock's versions. uv comes from PATH,
# else a pinned copy is installed into a temporary venv for this run only.
lock:
	@uv=$$(command -v $(call shq,$(UV)) || true); \
	if [ -z "$$uv" ]; then tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "lock: installing uv==$(UV_VERSION) into a temporary venv"; \
	  $(call shq,$(PY)) -m venv "$$tmp" && "$$tmp/bin/pip" install -q "uv==$(UV_VERSION)"; uv="$$tmp/bin/uv"; fi; \
	mkdir -p requirements; \
	for lock in $(LOCK_RUNTIME) $(LOCK_TEST); do \
	  if [ $$lock = $(LOCK_RUNTIME) ]; then what="runtime dependencies ([project] dependencies)"; extra=""; \
	  else what="runtime + test dependencies (the test extra), at the runtime lock's versions"; \
	    extra="--extra test -c $(LOCK_RUNTIME)"; fi; \
	  echo "lock: $$lock"; \
	  "$$uv" pip compile -q pyproject.toml $$extra --generate-hashes --no-header \
	    --python-version $(LOCK_PYTHON) --python-platform $(LOCK_PLATFORM) $(LOCK_UPGRADE) -o "$$lock"; \
	  { echo "# initlab: locked $$what, with hashes."; \
	    echo "# Generated from pyproject.toml by \`make lock\` (uv pip compile) for CPython 3.11 ($(LOCK_PYTHON) or"; \
	    echo "# later) on linux x86_64. Do not edit: change pyproject.toml, then run \`make lock\`."; \
	    cat "$$lock"; } > "$$lock.tmp"; \
	  mv "$$lock.tmp" "$$lock"; \
	done

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
browser-deps: venv-test
	@if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/nanum ]; then \
	  echo "browser-deps: /usr/bin/chromium and fonts-nanum present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "browser-deps: installing chromium fonts-nanum"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-nanum; \
	else \
	  echo "browser-deps: /usr/bin/chromium or fonts-nanum missing and not root: skipping (browser tests will skip)"; \
	fi

# Lint and type check: each command runs (all problems are shown at once); any failure fails the target.
# Versions are pinned in pyproject.toml's test extra, settings in its [tool.ruff] and [tool.mypy];
# `$(VENV_PY) -m ruff format` rewrites what the format check rejects.
lint: venv-test
	@rc=0; for cmd in "ruff check ." "ruff format --check ." "mypy"; do \
	  echo "$(VENV_PY) -m $$cmd"; $(VENV_PY) -m $$cmd || rc=1; \
	done; exit $$rc

# Lint first, then pytest. pytest exit 5 ("no tests collected") is a failure too: CI requires that tests ran.
test: venv-test browser-deps lint
	@echo "$(VENV_PY) -m pytest $(PYTEST_ARGS)"; rc=0; $(VENV_PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: FAILED: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# Rewrite the golden pages (tests/golden/*.md, checked by tests/test_golden.py) from their fixed data.
golden: venv-test
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
