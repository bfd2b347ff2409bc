# Makefile — a thin, readable wrapper over meson/ninja and the scripts in
# scripts/. The real build description is meson.build.
#
#   make run     build build/, start stsim (demo seed) and appointd on $(LISTEN), data in $(DATA_DIR)
#   make check   format, banned functions, cppcheck; sanitizer build in build-test/, unit + fuzz
#                replay + e2e + browser tests; ends "N passed, N failed, N skipped"
#   make build   build build/ only
#   make format  clang-format -i over src/ and tests/
#   make bench   wrk against appointd and nginx (see bench/RESULTS.md)
#   make clean   remove build dirs

LISTEN   ?= 127.0.0.1:8080
DATA_DIR ?= var
BUILD    := build

C_SOURCES = $(shell find src sim tests -name '*.[ch]' -not -path '*/corpus/*' 2>/dev/null)

.PHONY: all run check build format bench clean deps deps-bench

all: build

deps:
	@scripts/deps

deps-bench:
	@scripts/deps bench

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Dtests=false

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	LISTEN=$(LISTEN) DATA_DIR=$(DATA_DIR) exec scripts/demo $(BUILD)

check: deps
	@scripts/check

format:
	clang-format -i $(C_SOURCES)

bench: deps-bench build
	@bench/run.sh

clean:
	rm -rf build build-test
