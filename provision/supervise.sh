#!/bin/bash
# supervise.sh NAME LOGFILE COMMAND...: keeps COMMAND running on a host without systemd (netns lab hosts). Restarts
# it when it exits (1 s, doubling up to 30 s while it keeps failing fast), appends its output to LOGFILE, writes
# its own pid to /run/skydive/NAME.pid; SIGTERM stops COMMAND and the supervisor.
name=$1 log=$2
shift 2
pidfile=/run/skydive/$name.pid
mkdir -p /run/skydive "$(dirname "$log")"
echo $$ >"$pidfile"
child=
stopping=
stop() {
  stopping=1
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  rm -f "$pidfile"
  exit 0
}
trap stop TERM INT

delay=1
while [ -z "$stopping" ]; do
  started=$(date +%s)
  echo "[supervise $(date -Is)] starting: $*" >>"$log"
  "$@" </dev/null >>"$log" 2>&1 &
  child=$!
  wait "$child"
  rc=$?
  child=
  if [ $(($(date +%s) - started)) -ge 30 ]; then delay=1; fi
  echo "[supervise $(date -Is)] $name exited with status $rc, restarting in ${delay}s" >>"$log"
  sleep "$delay" &
  wait $!
  if [ "$delay" -lt 30 ]; then delay=$((delay * 2)); fi
done
