# youthclub — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test serve install translations messages clean

# the environment, rebuilt when the dependencies change
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

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

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find youthclub -name '*.mo' -delete
