#!/bin/sh
# Records real RFB sessions for the decoder benchmarks and tests: one X
# display (TigerVNC's Xvnc) showing changing content (a scrolling xterm, a
# photo-like window moved about, a clock, a background change), watched at
# once by one recorder per encoding: Xvnc serves Raw, CopyRect, RRE,
# Hextile, ZRLE, Tight and Tight+JPEG; x11vnc, on the same display, Zlib
# (Xvnc has none). At the end the screen is still, and `import` takes the
# truth that every lossless recording must end equal to. TightPNG comes
# from QEMU's VNC server (Debian's x11vnc falls back to Raw for it): a
# diskless guest's SeaBIOS screen, with QEMU's `screendump` as its truth.
#
# Usage: benches/tools/record-sessions.sh OUTDIR [WIDTHxHEIGHT] [SECONDS]
# Writes OUTDIR/<encoding>.rfb.gz, OUTDIR/truth.png and OUTDIR/qemu-truth.png.
# Needs: tigervnc-standalone-server x11vnc imagemagick xterm xdotool x11-apps
# qemu-system-x86
set -eu

OUT=$1
GEOM=${2:-1024x768}
SECS=${3:-8}
W=${GEOM%x*}
H=${GEOM#*x}
TOOLS=$(cd "$(dirname "$0")" && pwd)
CONVERT=/usr/bin/convert
for tool in Xvnc x11vnc $CONVERT display import xterm xdotool xclock python3 qemu-system-x86_64; do
  command -v "$tool" >/dev/null || { echo "record-sessions: $tool is missing" >&2; exit 1; }
done
mkdir -p "$OUT"
TMP=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
N=40
while [ -e /tmp/.X11-unix/X$N ] || [ -e /tmp/.X$N-lock ]; do N=$((N + 1)); done
P1=$(free_port)
P2=$(free_port)

Xvnc :$N -geometry "$GEOM" -depth 24 -rfbport "$P1" -SecurityTypes None -localhost -AlwaysShared >"$TMP/xvnc.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -e /tmp/.X11-unix/X$N ] && break; sleep 0.1; done
export DISPLAY=:$N

# Desktop-like pictures: gradients, flat "windows" with text, a checkerboard,
# and photo-like noise (ImageMagick's plasma fractal).
$CONVERT -size "${W}x${H}" gradient:'#1d3557-#a8dadc' \
  -fill '#f1faee' -draw "rectangle $((W / 20)),$((H / 10)) $((W / 2)),$((H / 2))" \
  -fill '#457b9d' -draw "rectangle $((W / 20)),$((H / 10)) $((W / 2)),$((H / 10 + 18))" \
  -fill black -font DejaVu-Sans -pointsize 13 -annotate +$((W / 20 + 8))+$((H / 10 + 40)) 'Virtual Machine Manager\nguest-1   running   2 vCPU   4 GiB\nguest-2   shut off\nguest-3   paused' \
  \( -size 160x120 pattern:checkerboard \) -geometry +$((W * 3 / 5))+$((H / 8)) -composite \
  "$TMP/desktop.png"
$CONVERT -size "${W}x${H}" plasma:'#264653-#e9c46a' -blur 0x12 \
  -fill '#2a9d8f' -draw "rectangle 0,$((H - 40)) $W,$H" "$TMP/desktop2.png"
$CONVERT -size 160x100 -seed 7 plasma:fractal "$TMP/photo.png"

# display exits 1 even when it has painted the root window.
display -window root "$TMP/desktop.png" || true
x11vnc -display :$N -rfbport "$P2" -shared -forever -nocursor -ncache 0 -nowf -localhost -nopw -quiet >"$TMP/x11vnc.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $P2))" 2>/dev/null && break; sleep 0.1; done

# name port encodings (-24 is JPEG quality level 8). Xvnc draws the
# pointer into the pixels for a client that did not put it where it is: the
# pointer waits in a corner, and each Xvnc recorder says it is there, and
# takes the cursor shape (-239) apart.
xdotool mousemove $((W - 1)) $((H - 1))
C=-239
RECS="raw $P1 0,$C
copyrect $P1 1,$C
rre $P1 2,$C
hextile $P1 5,$C
zrle $P1 16,$C
tight $P1 7,$C
tight-jpeg $P1 7,-24,$C
zlib $P2 6"
# QEMU: a VNC display number whose port is free.
D=50
while python3 -c "import socket; socket.create_connection(('127.0.0.1', 5900 + $D))" 2>/dev/null; do D=$((D + 1)); done
qemu-system-x86_64 -display none -vnc 127.0.0.1:$D -m 32 -nodefaults -vga std \
  -monitor unix:"$TMP/monitor",server,nowait >"$TMP/qemu.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.5
# SeaBIOS's text cursor blinks, so QEMU never goes quiet: stop by time.
python3 "$TOOLS/rfb_record.py" 127.0.0.1 $((5900 + D)) "$TMP/tightpng.rfb" --encodings=-260 \
  --seconds "$((SECS + 2))" --quiet 1 --max-wait 1 2>/dev/null &
echo $! >>"$TMP/recorders"
echo "$RECS" | while read -r name port encs; do
  pointer=""
  [ "$port" = "$P1" ] && pointer="--pointer=$((W - 1)),$((H - 1))"
  python3 "$TOOLS/rfb_record.py" 127.0.0.1 "$port" "$TMP/$name.rfb" --encodings="$encs" --seconds "$((SECS + 2))" $pointer &
  echo $! >>"$TMP/recorders"
done
sleep 1.5

# The changing content.
xterm -fa 'DejaVu Sans Mono' -fs 9 -geometry 80x24+$((W / 30))+$((H / 3)) -hold \
  -e sh -c 'for i in $(seq 1 40); do ls -l /usr/lib/x86_64-linux-gnu | head -n 6; sleep 0.1; done' &
PIDS="$PIDS $!"
xclock -geometry 100x100+$((W - 120))+10 -update 1 &
CLOCK=$!
PIDS="$PIDS $CLOCK"
display -geometry +$((W / 2))+$((H / 2)) "$TMP/photo.png" &
PIDS="$PIDS $!"
sleep 1
WIN=$(xdotool search --name photo.png | head -n 1 || true)
i=0
while [ $i -lt $((SECS * 2)) ]; do
  [ -n "$WIN" ] && xdotool windowmove "$WIN" $((W / 2 - i * 7)) $((H / 2 - i * 4)) 2>/dev/null || true
  [ $i -eq $SECS ] && { display -window root "$TMP/desktop2.png" || true; }
  sleep 0.3
  i=$((i + 1))
done
kill $CLOCK 2>/dev/null || true
for p in $(cat "$TMP/recorders"); do wait "$p" 2>/dev/null || while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
import -window root "$OUT/truth.png"
python3 - "$TMP/monitor" "$TMP/qemu.ppm" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.3)
s.send(b"screendump " + sys.argv[2].encode() + b"\n")
time.sleep(1)
PY
$CONVERT "$TMP/qemu.ppm" "$OUT/qemu-truth.png"
for f in "$TMP"/*.rfb; do gzip -9 -c "$f" >"$OUT/$(basename "$f").gz"; done
ls -l "$OUT"
