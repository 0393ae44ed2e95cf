# Skydive (TypeScript) — every target installs what is missing first, so a fresh Debian 12 machine with only
# Node 20 + npm (as root) can run `make demo` or `make test` directly. All targets are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages the project needs at run time and in its tests (libpcap for capture/BPF, OVS userspace
# datapath, sshd for the lab hosts, tools the lab walkthrough uses, chromium for the UI test).
APT_PACKAGES := libpcap-dev openvswitch-switch openssh-server openssh-client tcpdump iputils-ping bridge-utils \
	sudo iproute2 netsniff-ng tcpreplay procps psmisc chromium vagrant python3 make g++ rsync
APT_STAMP := node_modules/.apt-stamp
NPM_STAMP := node_modules/.package-lock.json
BUILD_STAMP := dist/.build-stamp
NATIVE := native/build/Release/skydive_native.node
SHARED ?= $(abspath ../shared)

.PHONY: deps build test test-unit demo demo-down bench clean

$(APT_STAMP): Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/tmp/skydive-apt.log 2>&1 \
	    || { tail -20 /tmp/skydive-apt.log; exit 1; }; \
	fi
	@mkdir -p node_modules && touch $@

$(NPM_STAMP): package-lock.json | $(APT_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

deps: $(APT_STAMP) $(NPM_STAMP)

$(NATIVE): native/binding.gyp native/skydive_native.c $(NPM_STAMP)
	cd native && npx --no-install node-gyp rebuild >/tmp/skydive-native.log 2>&1 || { tail -30 /tmp/skydive-native.log; exit 1; }

build: deps $(NATIVE)
	npx --no-install tsc -p tsconfig.json
	node scripts/bundle.mjs
	@touch $(BUILD_STAMP)

test: build
	SKYDIVE_SHARED=$(SHARED) npx --no-install mocha 'dist/test/**/*.test.js'

test-unit: build
	SKYDIVE_SHARED=$(SHARED) npx --no-install mocha 'dist/test/unit/**/*.test.js'

bench: build
	SKYDIVE_SHARED=$(SHARED) node dist/bench/run.js

demo: build
	@bash scripts/demo.sh

demo-down: build
	@bin/skydive lab down || true

clean:
	rm -rf dist native/build
