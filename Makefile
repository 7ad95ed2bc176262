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

# Until the hub service lands (issue 3), `make run` verifies the seed packages end to end.
run: build verify-seeds

verify-seeds:
	@for p in packages/*/; do $(BUILD)/bin/ahub verify "$$p" || exit $$?; done

clean:
	rm -rf $(BUILD)
