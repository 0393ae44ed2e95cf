#!/bin/bash
# Open vSwitch of a lab host, and its lab interface (LAB_IFACE, default eth1) with LAB_ADDRESS/LAB_PREFIX.
# With systemd (VMs) the distribution's service runs OVS; otherwise (netns hosts) ovsdb-server and ovs-vswitchd are
# started here with --monitor (restarted if they crash), on the host's own /etc/openvswitch and /run/openvswitch.
#
# OVS_DATAPATH=netdev (userspace datapath; netns hosts, whose kernel has no openvswitch module):
#  - ovs-vsctl becomes /usr/local/sbin/ovs-vsctl (first on the PATH and in sudo's secure_path), a wrapper giving
#    every bridge made by add-br datapath_type=netdev, so the walkthrough's `sudo ovs-vsctl add-br br0` works as is;
#  - the userspace tunnels (gre, vxlan, geneve) route their packets through OVS itself, so the host's underlay
#    address must sit on an OVS netdev bridge that holds the lab interface: br-phy holds eth1 and gets the address.
set -euo pipefail
iface=${LAB_IFACE:-eth1}
: "${LAB_ADDRESS:?LAB_ADDRESS, the lab address of this host, is required}"
prefix=${LAB_PREFIX:-24}
datapath=${OVS_DATAPATH:-system}
vsctl=/usr/bin/ovs-vsctl

if [ -d /run/systemd/system ]; then
  systemctl enable --now openvswitch-switch >/dev/null
else
  mkdir -p /run/openvswitch /var/log/openvswitch /etc/openvswitch
  if ! ovs-appctl -t ovsdb-server version >/dev/null 2>&1; then
    db=/etc/openvswitch/conf.db
    [ -e "$db" ] || ovsdb-tool create "$db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$db" --remote=punix:/run/openvswitch/db.sock --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
      --pidfile --detach --monitor --log-file -vconsole:err
  fi
  $vsctl --no-wait init
  if ! ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1; then
    ovs-vswitchd --pidfile --detach --monitor --log-file -vconsole:err
  fi
fi
$vsctl --timeout=20 show >/dev/null

if [ "$datapath" = netdev ]; then
  install -m 0755 /opt/skydive/provision/ovs-vsctl-netdev /usr/local/sbin/ovs-vsctl
  $vsctl --may-exist add-br br-phy -- set bridge br-phy datapath_type=netdev
  $vsctl --may-exist add-port br-phy "$iface"
  # the address moves from the interface (VMs configure it there) to br-phy
  ip -4 addr flush dev "$iface" scope global
  ip link set "$iface" up
  ip addr replace "$LAB_ADDRESS/$prefix" dev br-phy
  ip link set br-phy up
  echo "ovs running, $LAB_ADDRESS/$prefix on br-phy ($iface), datapath netdev"
else
  if grep -qs 'datapath_type=netdev wrapper' /usr/local/sbin/ovs-vsctl; then rm -f /usr/local/sbin/ovs-vsctl; fi
  ip addr replace "$LAB_ADDRESS/$prefix" dev "$iface"
  ip link set "$iface" up
  echo "ovs running, $LAB_ADDRESS/$prefix on $iface"
fi
