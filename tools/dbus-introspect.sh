#!/bin/sh
# Regenerates docs/dbus/org.virt_manager.VirtManager1.xml from the running
# service: starts the built app on the demo host under a private session
# bus (and Xvfb if there is no display), introspects, and stops it.
set -eu
cd "$(dirname "$0")/.."
bin=${1:-target/debug/virt-manager}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/run.sh" <<EOS
set -eu
HOME=$tmp XDG_CONFIG_HOME=$tmp/config GSETTINGS_BACKEND=keyfile GSK_RENDERER=cairo $bin --demo >/dev/null 2>&1 &
pid=\$!
for _ in \$(seq 1 50); do
  gdbus introspect --session --xml --dest org.virt_manager.VirtManager1 --object-path /org/virt_manager/VirtManager1 > $tmp/intro.xml 2>/dev/null && break
  sleep 0.2
done
kill \$pid
EOS
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a dbus-run-session -- sh "$tmp/run.sh"
else
  dbus-run-session -- sh "$tmp/run.sh"
fi
python3 - "$tmp/intro.xml" docs/dbus/org.virt_manager.VirtManager1.xml <<'EOP'
import re, sys
s = open(sys.argv[1]).read()
body = re.search(r'  <interface name="org.virt_manager.VirtManager1">.*?\n  </interface>\n', s, re.S).group(0)
head = open(sys.argv[2]).read().split('<node name=')[0]
open(sys.argv[2], 'w').write(head + '<node name="/org/virt_manager/VirtManager1">\n' + body + '</node>\n')
EOP
echo "updated docs/dbus/org.virt_manager.VirtManager1.xml"
