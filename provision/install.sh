#!/bin/bash
# Makes the project available at /opt/skydive and `skydive` on the PATH (/usr/local/sbin, first in sudo's
# secure_path). With SKYDIVE_TARBALL (VMs): unpacks the built project there and installs its runtime dependencies;
# without (netns hosts): the provider already bind-mounted this machine's checkout there, so only verify it.
set -euo pipefail
dest=/opt/skydive

if [ -n "${SKYDIVE_TARBALL:-}" ]; then
  new=$(sha256sum "$SKYDIVE_TARBALL" | cut -c1-16)
  if [ "$(cat $dest/.tarball-sum 2>/dev/null)" != "$new" ]; then
    rm -rf "$dest.new" && mkdir -p "$dest.new"
    tar -xzf "$SKYDIVE_TARBALL" -C "$dest.new"
    (cd "$dest.new" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    echo "$new" > "$dest.new/.tarball-sum"
    rm -rf "$dest" && mv "$dest.new" "$dest"
  fi
  rm -f "$SKYDIVE_TARBALL"
fi

if [ ! -x "$dest/bin/skydive" ]; then
  echo "$dest/bin/skydive is missing" >&2
  exit 1
fi
ln -sfn "$dest/bin/skydive" /usr/local/sbin/skydive
# a build that does not start yet is reported, not fatal: service.sh then says which servers are unavailable
if v=$("$dest/bin/skydive" --version 2>&1); then echo "$v"; else echo "present, but does not start: $(echo "$v" | grep -m1 -E 'Error|error' || echo "$v" | tail -1)"; fi
