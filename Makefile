# exectrace — every target does its own set-up and is safe to run twice.
#
#   make demo    set up, build, record a short demo workload, decode it, print stats
#   make test    set up, build, check the committed BPF object, run every test
#   make bpf     rebuild bpf/*.bpf.o from source (reproducibly) — commit the result
#   make bench   performance figures (see test/bench/)

SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages: the BPF toolchain, libbpf for the addon, and the peers the tests
# compare against (execsnoop from libbpf-tools).
APT_PACKAGES := clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config bpftool \
                libbpf-tools strace make g++ python3
CLANG ?= clang
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
              -fdebug-prefix-map=$(CURDIR)=. -I bpf -I /usr/include/$(shell uname -m)-linux-gnu
BPF_SOURCES := $(wildcard bpf/*.bpf.c)
BPF_OBJECTS := $(BPF_SOURCES:.c=.o)
TS_SOURCES := $(shell find src commands -name '*.ts' 2>/dev/null)
NATIVE_SOURCES := $(wildcard native/*.cc native/*.h) binding.gyp
TEST_PROGS := $(patsubst %.c,%.out,$(filter-out %.bpf.c,$(wildcard test/progs/*.c)))
DEMO_TRACE ?= /tmp/exectrace-demo.bin
DEMO_SYSCALLS ?= /tmp/exectrace-demo-syscalls.bin
DEMO_FILTERED ?= /tmp/exectrace-demo-sh.bin

.PHONY: deps apt npm build bpf check-bpf demo test bench fuzz clean progs fixtures syscall-table damaged-fixtures

## set-up ------------------------------------------------------------------

deps: apt npm

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

npm: node_modules/.install-stamp

# Without install scripts: the addon's own (npm install of the package) would build it a
# second time here; zstd-napi, the one dependency with a script, is built just below.
node_modules/.install-stamp: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@test -f node_modules/zstd-napi/build/Release/binding.node || (cd node_modules/zstd-napi && npx node-gyp rebuild)
	@touch $@

## build -------------------------------------------------------------------

build: deps dist/.build-stamp build/Release/exectrace_native.node

dist/.build-stamp: $(TS_SOURCES) tsconfig.json node_modules/.install-stamp
	npx tsc -p tsconfig.json
	@touch $@

build/Release/exectrace_native.node: $(NATIVE_SOURCES) node_modules/.install-stamp
	npx node-gyp rebuild

# The committed objects are the ones the recorder loads; this rebuilds them.
bpf: apt
	@for src in $(BPF_SOURCES); do \
	  echo "  BPF $$src"; $(CLANG) $(BPF_CFLAGS) -c $$src -o $${src%.c}.o || exit 1; \
	done

# Fails when a committed object does not match what its source compiles to.
check-bpf: apt
	@tmp=$$(mktemp -d); rc=0; \
	for src in $(BPF_SOURCES); do \
	  obj=$${src%.c}.o; \
	  $(CLANG) $(BPF_CFLAGS) -c $$src -o $$tmp/out.o || { rc=1; continue; }; \
	  if cmp -s $$tmp/out.o $$obj; then echo "  ok $$obj matches $$src"; \
	  else echo "error: $$obj does not match $$src: run 'make bpf' and commit $$obj"; rc=1; fi; \
	done; rm -rf $$tmp; exit $$rc

progs: $(TEST_PROGS)

test/progs/%.out: test/progs/%.c
	$(CC) -O1 -Wall -pthread -o $@ $<

## jobs --------------------------------------------------------------------

# Records a short, known workload system-wide, then decodes and summarizes it offline.
demo: build
	@echo "== record the demo workload and its descendants (--follow: filtered in the kernel)"
	./bin/exectrace record --raw --follow --force -o $(DEMO_TRACE) -- bash test/demo-workload.sh
	@echo "== decode"
	./bin/exectrace decode $(DEMO_TRACE) | tail -n 25
	@echo "== stats"
	./bin/exectrace stats $(DEMO_TRACE)
	@echo "== filter, offline: a predicate, then a new trace file of one command's events"
	./bin/exectrace decode $(DEMO_TRACE) --where 'type == "exec_failed" or argv =~ /quotes/'
	./bin/exectrace filter $(DEMO_TRACE) --comm sh --force -o $(DEMO_FILTERED)
	./bin/exectrace stats $(DEMO_FILTERED) | head -n 9
	@echo "== syscalls of one command, decoded like strace"
	./bin/exectrace record --force -o $(DEMO_SYSCALLS) --syscalls --comm cat --bytes 32 -- cat /etc/os-release > /dev/null
	./bin/exectrace decode $(DEMO_SYSCALLS) --no-processes | grep -F ' cat(' | tail -n 12
	./bin/exectrace stats $(DEMO_SYSCALLS) | sed -n '/% TIME/,$$p' | head -n 12

# tap's own summary is not a line CI reads, so the last line restates it plainly.
test: build check-bpf progs
	@log=$$(mktemp); set -o pipefail; npx tap 2>&1 | tee $$log; rc=$$?; \
	summary=$$(grep -E '^# \{ total: [0-9]+' $$log | tail -n 1); rm -f $$log; \
	pass=$$(echo "$$summary" | grep -oE 'pass: [0-9]+' | grep -oE '[0-9]+'); \
	fail=$$(echo "$$summary" | grep -oE 'fail: [0-9]+' | grep -oE '[0-9]+'); \
	skip=$$(echo "$$summary" | grep -oE 'skip: [0-9]+' | grep -oE '[0-9]+'); \
	echo "$${pass:-0} passed, $${fail:-0} failed, $${skip:-0} skipped"; \
	exit $$rc

# Peers the bench compares against; installed only for it (bpftrace pulls in LLVM).
BENCH_PACKAGES := linux-perf bpftrace libbpf-tools

# One table side by side with perf, bpftrace and execsnoop; JSON for the README table.
# BENCH_N, BENCH_EXEC_N, BENCH_REPEAT; BENCH_QUICK=1 smoke run; BENCH_PEERS=0 without peers.
bench: build
	@[ "$(BENCH_PEERS)" = 0 ] || $(MAKE) --no-print-directory apt APT_PACKAGES="$(BENCH_PACKAGES)"
	node test/bench/run.js --json $(or $(BENCH_JSON),/tmp/exectrace-bench.json)

clean:
	rm -rf dist build test/progs/*.out

# The x86_64 syscall number → name table the recorder uses (from linux-libc-dev); commit the result.
syscall-table:
	node scripts/gen-syscall-table.js

fixtures/sysdesc_layouts.bpf.o: test/progs/sysdesc_layouts.bpf.c bpf/exectrace.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Small real recordings for the offline tests (needs root; commit the result), and the
# deliberately damaged files derived from them.
fixtures: build progs fixtures/sysdesc_layouts.bpf.o
	./bin/exectrace record --force -o fixtures/exec-scenarios.bin -- node test/progs/scenarios.js fixtures/exec-scenarios.manifest.json
	./bin/exectrace record --force -o fixtures/syscalls-cat.bin --syscall openat --syscall read --syscall close -- cat /etc/hostname
	./bin/exectrace record --force -o fixtures/syscalls-net.bin --bytes 16 --comm netcuts.out $(foreach s,socket bind listen getsockname connect accept4 writev readv poll sendto recvmsg select epoll_wait,--syscall $(s)) -- test/progs/netcuts.out
	./bin/exectrace record --force -o fixtures/exec-lossy.bin --ring-size 4096 --flush-interval 2s -- \
	  bash -c 'for i in $$(seq 400); do /bin/true & done; wait'
	PATH=/usr/bin:/bin ./bin/exectrace record --force -o fixtures/exec-tree.bin --follow -- sh test/progs/tree-workload.sh
	@# Two hosts at once (the second a UTS namespace named web-2), for decode's merge of several files.
	w='for i in 1 2 3; do uname -n; id -u >/dev/null; sleep 0.05; done'; \
	./bin/exectrace record --force --follow -o fixtures/fleet-vm.bin -- sh -c "$$w" & \
	unshare -u sh -c "hostname web-2 && ./bin/exectrace record --force --follow -o fixtures/fleet-web-2.bin -- sh -c '$$w'"; wait
	PATH=/usr/bin:/bin ./bin/exectrace record --force -o fixtures/query-net.bin --follow --syscall connect --syscall openat -- sh test/progs/query-workload.sh
	node scripts/make-damaged-fixtures.js

damaged-fixtures: build
	node scripts/make-damaged-fixtures.js

# The fuzz test runs ~10 s in `make test`; this runs it for FUZZ_SECONDS (default 300).
fuzz: build
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} npx tap --timeout=0 test/fuzz.test.ts
