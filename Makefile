# youthclub — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test serve install translations messages clean lock lock-upgrade lint audit

# The environment is exactly the lock (requirements/dev.txt: runtime + test + dev tools, every
# version pinned with its hashes), rebuilt from scratch when the lock changes; pyproject.toml
# keeps the ranges. After changing dependencies in pyproject.toml: `make lock`
# (docs/DEVELOPING.md, Dependencies).
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV     := requirements/dev.txt
UV_COMPILE    = $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
                --generate-hashes --custom-compile-command 'make lock' $(UV_ARGS)

$(BIN)/.locked: $(LOCK_DEV)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK_DEV)
	touch $@

# the project itself, without dependencies (they all came from the lock) and built with the
# locked setuptools; `pip check` fails when pyproject.toml asks for something the lock lacks
$(BIN)/.installed: $(BIN)/.locked pyproject.toml
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/pip check || { echo "The lock does not satisfy pyproject.toml: run 'make lock'." >&2; exit 1; }
	touch $@

install: $(BIN)/.installed

# regenerate the locks from pyproject.toml, keeping every pin that still fits;
# `make lock-upgrade` moves everything to the newest versions the ranges allow
# (a lock that comes out the same keeps its time stamp, so the venv is not rebuilt for nothing)
lock: $(BIN)/.locked
	@for f in $(LOCK_RUNTIME) $(LOCK_DEV); do cp -p $$f $$f.before; done
	$(UV_COMPILE) -o $(LOCK_RUNTIME)
	$(UV_COMPILE) --extra test --extra dev -c $(LOCK_RUNTIME) -o $(LOCK_DEV)
	@for f in $(LOCK_RUNTIME) $(LOCK_DEV); do \
	  if cmp -s $$f $$f.before; then touch -r $$f.before $$f; else echo "$$f changed"; fi; rm $$f.before; \
	done

lock-upgrade:
	$(MAKE) lock UV_ARGS=--upgrade

# lint (ruff, with import order) and types (mypy); both configured in pyproject.toml
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# known vulnerabilities in the locked versions (pip-audit, PyPI's advisory data); fails on a
# vulnerable version, and on packages it could not look up unless AUDIT_ARGS=--allow-unaudited
audit: install
	$(BIN)/python requirements/audit.py $(AUDIT_ARGS) $(LOCK_RUNTIME) $(LOCK_DEV)

translations: install
	$(BIN)/python -m youthclub.catalogues compile

# after changing texts: update the catalogues, then fill in the English
messages: install
	$(BIN)/python -m youthclub.catalogues extract
	-$(BIN)/python -m youthclub.catalogues missing

# the web server with a job worker and the scheduler (Redis at REDIS_URL or 127.0.0.1:6379; without
# Redis the jobs run in-process); links in mail, claim codes and calendar feeds point at the port
# served (unless PUBLIC_BASE_URL says otherwise)
run: translations
	$(BIN)/youthclub db upgrade
	$(BIN)/youthclub seed-demo --if-empty
	PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" $(BIN)/youthclub dev --host 127.0.0.1 --port $(PORT)

# production: gunicorn (gunicorn.conf.py) with the production config; needs SECRET_KEY and
# DATABASE_URL (README.md, Production). Run `youthclub db upgrade` once per deploy, not here.
serve: translations
	@test -n "$$SECRET_KEY" || { echo "make serve: SECRET_KEY is not set; production refuses to start without it (README.md, Production)." >&2; exit 1; }
	@test -n "$$DATABASE_URL" || { echo "make serve: DATABASE_URL is not set (README.md, Production)." >&2; exit 1; }
	YOUTHCLUB_ENV=production $(BIN)/gunicorn --config gunicorn.conf.py

# the suite runs in TEST_WORKERS processes (pytest-xdist, each with its own test database and
# Redis database; tests/conftest.py); TEST_WORKERS=0 runs it in this one process
TEST_WORKERS ?= 2
test: translations
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist worksteal) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
	find youthclub -name '*.mo' -delete
