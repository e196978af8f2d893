#!/bin/sh
# Runs a command with the system services the tests use, starting those
# that are not running and stopping exactly those, by pid, afterwards:
# virtlogd and libvirtd (the live-hypervisor tests, as root).
set -u

started=""
pid_of() { cat "$1" 2>/dev/null || true; }

if [ "$(id -u)" -eq 0 ]; then
  # virtlogd is checked on its own: a package's init script may have left
  # libvirtd running beside a dead virtlogd, or a stale socket file behind,
  # and QEMU guests cannot start without it.
  if ! pgrep -x virtlogd >/dev/null 2>&1; then
    rm -f /var/run/libvirt/virtlogd-sock /var/run/libvirt/virtlogd-admin-sock /var/run/virtlogd.pid
    virtlogd -d && sleep 0.2 && started="$started $(pid_of /var/run/virtlogd.pid)"
  fi
  if ! virsh -c qemu:///system version >/dev/null 2>&1; then
    libvirtd -d && sleep 0.5
    for _ in $(seq 1 100); do
      virsh -c qemu:///system version >/dev/null 2>&1 && break
      sleep 0.2
    done
    started="$started $(pid_of /var/run/libvirtd.pid)"
  fi
else
  echo "not root: the live libvirt tests will fail (they need libvirtd as root)" >&2
fi

"$@"
status=$?

for pid in $started; do
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
done
exit $status
