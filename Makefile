# The README's two commands: `make demo` and `make test`. Both work on a fresh machine:
# they install Tesseract (Debian) and uv when missing, then sync the locked environment.

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN = $(UV) run --frozen
export OMP_THREAD_LIMIT := 1

.PHONY: system-deps sync test test-fast fuzz demo demo-ui proto check-models cluster-test

system-deps:
	@tools/system-deps.sh

sync: system-deps
	@$(eval UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv))
	@$(UV) sync --frozen --quiet

test: sync
	$(RUN) pytest -q

test-fast: sync
	$(RUN) pytest -q -m "not slow"

# The fuzzers of `make test` (tests/fuzz) for 10 minutes; writes bench/REPORT-fuzz.md.
fuzz: sync
	$(RUN) python bench/fuzz.py --minutes 10

# PostgreSQL, nginx, three replicas and 16 stations; one replica killed mid-session
# (deploy/README.md); writes bench/REPORT-cluster.md.
cluster-test: sync
	$(RUN) python tools/cluster.py --stations 16

demo: sync
	$(RUN) python tools/demo.py

# The same demo at the officer's counter application in the browser (Ctrl-C ends it).
demo-ui: sync
	$(RUN) python tools/demo.py --ui

proto: sync
	$(RUN) python tools/gen_proto.py

check-models: sync
	$(RUN) verifier check-models
