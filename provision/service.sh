#!/bin/bash
# Starts (or restarts) `skydive ROLE --conf /etc/skydive/skydive.yml` as a service: a systemd unit where systemd
# runs (VMs), else under provision/supervise.sh (netns hosts), which restarts it when it exits and logs to
# /var/log/skydive/skydive-ROLE.log. Exit status 3: this build of skydive has no such command yet.
set -euo pipefail
role=${1:?usage: service.sh analyzer|agent}
case "$role" in analyzer | agent) ;; *) echo "unknown role $role" >&2; exit 2 ;; esac
bin=/opt/skydive/bin/skydive
conf=/etc/skydive/skydive.yml
name=skydive-$role

if ! "$bin" "$role" --help >/dev/null 2>&1; then
  echo "skydive $role is not available in this build"
  exit 3
fi

if [ -d /run/systemd/system ]; then
  cat > /etc/systemd/system/$name.service <<UNIT
[Unit]
Description=Skydive $role (lab)
After=network-online.target openvswitch-switch.service

[Service]
ExecStart=$bin $role --conf $conf
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable $name >/dev/null 2>&1
  systemctl restart $name
  echo "started (systemd unit $name)"
else
  pidfile=/run/skydive/$name.pid
  if [ -f "$pidfile" ] && old=$(cat "$pidfile") && kill -0 "$old" 2>/dev/null; then
    kill -TERM "$old"
    for _ in $(seq 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
    # the supervisor leads its own process group (setsid): whatever still runs there goes
    kill -KILL -- "-$old" 2>/dev/null || true
  fi
  mkdir -p /run/skydive /var/log/skydive
  setsid /opt/skydive/provision/supervise.sh "$name" "/var/log/skydive/$name.log" "$bin" "$role" --conf "$conf" \
    </dev/null >/dev/null 2>&1 &
  for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
  echo "started (supervised, log /var/log/skydive/$name.log)"
fi
