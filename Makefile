# The two entry points of the README: `make run` and `make test`. Everything else is a helper.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build test run verify-seeds clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The hub on 127.0.0.1:8080 with its data in ./var; on an empty store it loads packages/ and
# verifies them in the background. Override with e.g. `make run AHUB_LISTEN=0.0.0.0:9000`.
AHUB_LISTEN ?= 127.0.0.1:8080
AHUB_DATA ?= var
run: build
	$(BUILD)/bin/ahub serve --listen $(AHUB_LISTEN) --data $(AHUB_DATA)

verify-seeds:
	@for p in packages/*/; do $(BUILD)/bin/ahub verify "$$p" || exit $$?; done

clean:
	rm -rf $(BUILD)
