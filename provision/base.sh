#!/bin/bash
# Base packages of a lab host. On VMs (LAB_INSTALL_PACKAGES=1: the Vagrant provider, or the Vagrantfile's own
# provisioner) installs what Skydive and the walkthrough need, and Node.js ${NODE_VERSION} from nodejs.org.
# On netns hosts the filesystem is this machine's: only checks that the tools are there.
set -euo pipefail

need=(ip ovs-vsctl ovsdb-server ovs-vswitchd ovsdb-tool sudo tcpdump ping node)
missing() { local m=(); for c in "${need[@]}"; do command -v "$c" >/dev/null 2>&1 || m+=("$c"); done; echo "${m[*]}"; }

if [ "${LAB_INSTALL_PACKAGES:-0}" = 1 ] && [ -n "$(missing)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openvswitch-switch iproute2 sudo tcpdump iputils-ping bridge-utils \
    libpcap0.8 ca-certificates curl xz-utils rsync build-essential python3 libpcap-dev >/dev/null
  if ! command -v node >/dev/null 2>&1; then
    v="${NODE_VERSION:-v20.19.0}"
    arch=$(uname -m); case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
    curl -fsSL "https://nodejs.org/dist/$v/node-$v-linux-$arch.tar.xz" | tar -xJ -C /usr/local --strip-components=1
  fi
fi

m=$(missing)
if [ -n "$m" ]; then
  echo "missing commands: $m" >&2
  exit 1
fi
echo "tools present"
