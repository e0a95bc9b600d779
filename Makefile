# The one Makefile. Everything builds out of tree under $(BUILD)/.
#
#   make                 build libraries, programs and examples
#   make test            build and run every test suite
#   make SAN=address,undefined test   the same under sanitizers (own build dir)
#   make tsan            libtrace concurrency tests under ThreadSanitizer
#   make bench           every benchmark (BENCH lines); make bench-quick
#   make demo            start a collector, run the example services, show a trace
#   make install PREFIX=/usr/local
#
# Each directory contributes by convention, so adding a file rarely needs an
# edit here: libtrace/*.c, common/*.c, collector/ROOM/*.c, tracecli/*.c;
# examples/X.c or examples/X/*.c -> bin/X; tests/unit/test_X.c -> tests/test_X;
# bench/bench_X.c -> bench/bench_X.

comma := ,
ifdef SAN
BUILD ?= build/san-$(subst $(comma),-,$(SAN))
else
BUILD ?= build
endif
PREFIX ?= /usr/local
CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= -Werror
Q = $(if $(V),,@)

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wpointer-arith -Wcast-qual -Wvla -Wundef $(WERROR)
GEN = $(BUILD)/gen
BASE_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -pthread -fPIC $(CFLAGS)
ifdef SAN
BASE_CFLAGS += -O1 -g -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SAN)
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(WARN) -Ilibtrace/include

# Libraries each part links with. nng ships no .pc file on Debian 12.
NNG_LIBS ?= -lnng
ROCKSDB_LIBS ?= $(shell pkg-config --libs rocksdb 2>/dev/null || echo -lrocksdb)
PROTOBUF_LIBS ?= $(shell pkg-config --libs libprotobuf-c)
JSON_LIBS ?= $(shell pkg-config --libs jansson)
# OTLP JSON is read with simdjson (C++: common/json_read.cpp, the one C++
# file; docs/OTLP.md says why), so what links libtracecommon links libstdc++.
SIMDJSON_LIBS ?= $(shell pkg-config --libs simdjson) -lstdc++
JSON_CXX = $(if $(findstring clang,$(CC)),clang++,g++)
CURSES_CFLAGS ?= $(shell pkg-config --cflags ncursesw)
CURSES_LIBS ?= $(shell pkg-config --libs ncursesw)
CMOCKA_LIBS ?= $(shell pkg-config --libs cmocka)
HTTPD_LIBS ?= $(shell pkg-config --libs libmicrohttpd gnutls)
HTTP2_LIBS ?= $(shell pkg-config --libs libnghttp2)
CURL_LIBS ?= $(shell pkg-config --libs libcurl)
SYS_LIBS = -lz -lpthread -lm

LIBTRACE_LIBS = $(NNG_LIBS) -lpthread
COMMON_LIBS = $(PROTOBUF_LIBS) $(JSON_LIBS) $(SIMDJSON_LIBS) $(SYS_LIBS)
COLLECTOR_LIBS = $(ROCKSDB_LIBS) $(HTTPD_LIBS) $(HTTP2_LIBS) $(CURL_LIBS) \
	$(NNG_LIBS) $(COMMON_LIBS)
CLI_LIBS = $(CURSES_LIBS) $(NNG_LIBS) $(COMMON_LIBS)

# ---------------------------------------------------------------- sources
PROTOS := $(shell find proto -name '*.proto')
PB_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)
PB_OBJS := $(PB_C:.c=.o)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBTRACE_OBJS := $(call obj,$(wildcard libtrace/*.c))
COMMON_OBJS := $(call obj,$(wildcard common/*.c)) \
	$(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard common/*.cpp))
COLLECTOR_LIB_OBJS := $(call obj,$(filter-out collector/daemon/main.c,$(wildcard collector/*/*.c)))
CLI_LIB_OBJS := $(call obj,$(filter-out tracecli/main.c,$(wildcard tracecli/*.c)))

LIB_TRACE_A = $(BUILD)/lib/libtrace.a
LIB_TRACE_SO = $(BUILD)/lib/libtrace.so
LIB_COMMON = $(BUILD)/lib/libtracecommon.a
LIB_COLLECTOR = $(BUILD)/lib/libcollector.a
LIB_CLI = $(BUILD)/lib/libtracecli.a

EXAMPLE_SINGLE := $(patsubst examples/%.c,%,$(wildcard examples/*.c))
EXAMPLE_DIRS := $(patsubst examples/%/,%,$(sort $(dir $(wildcard examples/*/*.c))))
EXAMPLES := $(addprefix $(BUILD)/bin/,$(EXAMPLE_SINGLE) $(EXAMPLE_DIRS))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))
# tests/tools/X.c -> tools/X: helper programs the e2e tests and benches drive.
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
BINS := $(BUILD)/bin/tracecollector $(BUILD)/bin/tracecli

INTERNAL_INC = -Ilibtrace -Icommon -Icollector -Itracecli -I$(GEN)
ALL_LIBS_FOR_TESTS = $(LIB_CLI) $(LIB_COLLECTOR) $(LIB_COMMON) $(LIB_TRACE_A) \
	$(CURSES_LIBS) $(ROCKSDB_LIBS) $(HTTPD_LIBS) $(HTTP2_LIBS) $(CURL_LIBS) \
	$(NNG_LIBS) $(COMMON_LIBS)

# ---------------------------------------------------------------- targets
.PHONY: all deps deps-build build test unit e2e tsan asan bench bench-quick demo \
	install clean help
.DEFAULT_GOAL := all
# Keep generated sources and objects that pattern chains would otherwise
# treat as intermediate and delete (forcing needless rebuilds).
.SECONDARY:

all: deps-build
	$(Q)$(MAKE) --no-print-directory build

# deps: everything the tests and benchmarks run against (servers, browser);
# deps-build: only what building and the demo need, so `make demo` stays light.
deps:
	$(Q)sh scripts/deps.sh

deps-build:
	$(Q)sh scripts/deps.sh build

build: $(LIB_TRACE_A) $(LIB_TRACE_SO) $(BINS) $(EXAMPLES)

# ---------------------------------------------------------------- codegen
# protoc-c writes the .c and .h of one .proto together (grouped pattern).
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	$(Q)protoc-c --proto_path=proto --c_out=$(GEN) $<

# Generated code is not ours to lint: plain -Wall only.
$(GEN)/%.pb-c.o: $(GEN)/%.pb-c.c | $(PB_H)
	$(Q)$(CC) $(BASE_CFLAGS) -Wall $(WERROR) -I$(GEN) -c $< -o $@

# ---------------------------------------------------------------- objects
# libtrace: only its own headers and nng; symbols hidden unless TRACE_API.
$(BUILD)/obj/libtrace/%.o: libtrace/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Ilibtrace -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/obj/common/%.o: common/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Icommon -I$(GEN) -MMD -MP -c $< -o $@

# The C flags less the C standard, for common/json_read.cpp; no UBSan vptr
# check, whose C++ runtime a C link (clang's, for fuzzing) does not bring.
$(BUILD)/obj/common/%.o: common/%.cpp
	@mkdir -p $(@D)
	$(Q)$(JSON_CXX) $(filter-out -std=c11,$(BASE_CFLAGS)) -std=c++17 \
		-fno-sanitize=vptr -Wall -Wextra $(WERROR) -Icommon -MMD -MP \
		-c $< -o $@

$(BUILD)/obj/collector/%.o: collector/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Icollector -Icommon -I$(GEN) -MMD -MP -c $< -o $@

$(BUILD)/obj/tracecli/%.o: tracecli/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CURSES_CFLAGS) -Itracecli -Icommon -I$(GEN) -MMD -MP -c $< -o $@

# Examples see only the public header (and nng).
$(BUILD)/obj/examples/%.o: examples/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CURSES_CFLAGS) $(INTERNAL_INC) -MMD -MP -c $< -o $@

$(BUILD)/obj/bench/%.o: bench/%.c | $(PB_H)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(INTERNAL_INC) -MMD -MP -c $< -o $@

# ---------------------------------------------------------------- libraries
$(LIB_TRACE_A): $(LIBTRACE_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_TRACE_SO): $(LIBTRACE_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libtrace.so.0 $(LDFLAGS) -o $@ $^ $(LIBTRACE_LIBS)

$(LIB_COMMON): $(COMMON_OBJS) $(PB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_COLLECTOR): $(COLLECTOR_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_CLI): $(CLI_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# ---------------------------------------------------------------- programs
$(BUILD)/bin/tracecollector: $(BUILD)/obj/collector/daemon/main.o $(LIB_COLLECTOR) $(LIB_COMMON)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(COLLECTOR_LIBS)

$(BUILD)/bin/tracecli: $(BUILD)/obj/tracecli/main.o $(LIB_CLI) $(LIB_COMMON)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(CLI_LIBS)

$(BUILD)/bin/%: $(BUILD)/obj/examples/%.o $(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LIBTRACE_LIBS)

# A directory under examples/ is one program made of all its .c files.
define example_dir
$(BUILD)/bin/$(1): $(call obj,$(wildcard examples/$(1)/*.c)) $(LIB_TRACE_A)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) -pthread -o $$@ $$^ $$(LIBTRACE_LIBS)
endef
$(foreach d,$(EXAMPLE_DIRS),$(eval $(call example_dir,$(d))))
# w3c-service parses the test suite's JSON requests with jansson.
$(BUILD)/bin/w3c-service: LIBTRACE_LIBS += $(JSON_LIBS) $(HTTPD_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_CLI) $(LIB_COLLECTOR) $(LIB_COMMON) $(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $< $(ALL_LIBS_FOR_TESTS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_CLI) $(LIB_COLLECTOR) $(LIB_COMMON) $(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $< $(ALL_LIBS_FOR_TESTS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB_COLLECTOR) $(LIB_COMMON)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(COLLECTOR_LIBS)

# ---------------------------------------------------------------- tests
# TEST_FILTER=word runs only the unit tests whose name contains word.
TEST_FILTER ?=
SELECTED_TESTS = $(if $(TEST_FILTER),$(foreach t,$(UNIT_TESTS),$(if $(findstring $(TEST_FILTER),$(notdir $(t))),$(t))),$(UNIT_TESTS))

test: deps
	$(Q)$(MAKE) --no-print-directory build $(SELECTED_TESTS) $(TOOLS)
	$(Q)TEST_FILTER='$(TEST_FILTER)' sh tests/run.sh $(BUILD)

# unit: only the cmocka programs (tests/unit/); e2e: only the scripts with
# real processes (tests/e2e/). `make test` runs both.
unit: deps
	$(Q)$(MAKE) --no-print-directory build $(SELECTED_TESTS)
	$(Q)TEST_KIND=unit TEST_FILTER='$(TEST_FILTER)' sh tests/run.sh $(BUILD)

e2e: deps
	$(Q)$(MAKE) --no-print-directory build $(TOOLS)
	$(Q)TEST_KIND=e2e TEST_FILTER='$(TEST_FILTER)' sh tests/run.sh $(BUILD)

asan:
	$(Q)$(MAKE) --no-print-directory SAN=address,undefined test

# Concurrency tests (tests/unit/test_*threads*.c) under ThreadSanitizer.
tsan:
	$(Q)$(MAKE) --no-print-directory SAN=thread TEST_FILTER=threads test

# ---------------------------------------------------------------- bench, demo
bench: deps
	$(Q)$(MAKE) --no-print-directory build $(BENCHES) $(TOOLS)
	$(Q)sh bench/run.sh $(BUILD)

bench-quick: deps
	$(Q)$(MAKE) --no-print-directory build $(BENCHES) $(TOOLS)
	$(Q)BENCH_QUICK=1 sh bench/run.sh $(BUILD)

demo: deps-build
	$(Q)$(MAKE) --no-print-directory build
	$(Q)sh examples/demo.sh $(BUILD)

# ---------------------------------------------------------------- install
# libtrace.pc is written here, not at build time, so that it names this
# install's PREFIX (tests/e2e/test_install.sh builds against it).
install: build
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/trace $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB_TRACE_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_TRACE_SO) $(DESTDIR)$(PREFIX)/lib/libtrace.so.0
	ln -sf libtrace.so.0 $(DESTDIR)$(PREFIX)/lib/libtrace.so
	install -m 644 libtrace/include/trace/trace.h $(DESTDIR)$(PREFIX)/include/trace/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|0.1.0|g' \
		libtrace/libtrace.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libtrace.pc
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/


clean:
	rm -rf build

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- fuzz, soak
# (issue 8) `make fuzz [FUZZ_SECONDS=60]`: every tests/fuzz/fuzz_X.c becomes
# a libFuzzer binary in build/fuzz/bin/fuzz_X (clang, ASan+UBSan, linked
# with the project's libraries rebuilt by clang in build/fuzz), then
# tests/fuzz/run.sh runs each on a copy of tests/fuzz/corpus/X/ and prints
# "FUZZ X execs=N seconds=S crashes=0|1"; any crash fails the target.
# The same corpora (and tests/fuzz/regress/) replay under the normal build
# in tests/unit/test_fuzz_regress.c.
# `make soak [SOAK_SECONDS=60]`: bench/soak.sh drives a real collector with
# libtrace producers (bench/soak_load.c) and a query load, reporting RSS and
# latency over time.
.PHONY: fuzz fuzz-build soak
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
FUZZ_BUILD = build/fuzz
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_BINS := $(patsubst %,$(BUILD)/bin/fuzz_%,$(FUZZ_NAMES))

fuzz:
	$(Q)sh scripts/deps.sh fuzz
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS='-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link' \
		LDFLAGS='$(FUZZ_SAN)' fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BUILD) \
		$(FUZZ_NAMES)

# Run only with BUILD=$(FUZZ_BUILD) CC=clang (the fuzz target does).
fuzz-build: $(FUZZ_BINS)
.PRECIOUS: $(BUILD)/obj/tests/fuzz/%.o

$(BUILD)/bin/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB_CLI) \
		$(LIB_COLLECTOR) $(LIB_COMMON) $(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -pthread -o $@ $< \
		$(ALL_LIBS_FOR_TESTS)

# The soak load generator links libtrace and the query protocol.
$(BUILD)/bench/soak_load: $(BUILD)/obj/bench/soak_load.o $(LIB_COMMON) \
		$(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LIBTRACE_LIBS) $(COMMON_LIBS)

soak: deps
	$(Q)$(MAKE) --no-print-directory build $(BUILD)/bench/soak_load
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) sh bench/soak.sh $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- faults
# (issue 8) Fault tests. tests/faults/X.c -> $(BUILD)/tools/X: helper
# programs instrumented with libtrace (only <trace/trace.h>), driven by
# tests/e2e/test_fault_*.sh; `make test` builds them with the other tools.
# `make valgrind` runs the skeleton integration test with tracecollector
# and tracecli under valgrind memcheck (tests/faults/valgrind.sh); any
# memcheck error or definite leak fails it.
.PHONY: valgrind
FAULT_TOOLS := $(patsubst tests/faults/%.c,$(BUILD)/tools/%,$(wildcard tests/faults/*.c))
TOOLS += $(FAULT_TOOLS)

$(FAULT_TOOLS): $(BUILD)/tools/%: $(BUILD)/obj/tests/faults/%.o $(LIB_TRACE_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LIBTRACE_LIBS)

valgrind: deps
	$(Q)sh scripts/deps.sh valgrind
	$(Q)$(MAKE) --no-print-directory build $(TOOLS)
	$(Q)sh tests/faults/valgrind.sh $(BUILD)
