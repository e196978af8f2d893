#!/bin/sh
# Installs the Debian 12 packages a task needs, only those missing.
#   tools/install-deps.sh build   - to build and run the app
#   tools/install-deps.sh test    - to run every test (includes build)
#   tools/install-deps.sh bench   - to run the benchmarks (includes test)
#
# The image may carry a backported qemu-utils that makes one large
# `apt-get install` fail to resolve: the hypervisor packages go in an
# install of their own, first (DEVELOPERS.md).
set -eu

BUILD="build-essential pkg-config libgtk-4-dev libadwaita-1-dev libvirt-dev libssl-dev
gettext libglib2.0-bin libglib2.0-dev-bin libturbojpeg0-dev"

HYPERVISOR="libvirt-daemon-system qemu-system-x86"

TEST="libvirt-clients xvfb xauth dbus dbus-x11 at-spi2-core python3-pyatspi
gnome-keyring desktop-file-utils appstream imagemagick xclip xdotool x11-utils
x11vnc tigervnc-standalone-server tigervnc-tools tigervnc-viewer locales valgrind
x11-apps x11-xserver-utils openssl flatpak-builder openbox"

# The references the benchmarks run beside ours (Debian's virt-manager,
# gtk-vnc, TigerVNC, libvncclient) and what their harnesses build with.
BENCH="virt-manager python3-gi gvncviewer libgtk-vnc-2.0-dev libvncserver-dev
tigervnc-viewer libx11-dev libxext-dev libxtst-dev bc valgrind"

case "${1:-build}" in
  build) groups="BUILD" ;;
  test) groups="HYPERVISOR BUILD TEST" ;;
  bench) groups="HYPERVISOR BUILD TEST BENCH" ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

updated=""
for g in $groups; do
  eval "pkgs=\$$g"
  # shellcheck disable=SC2086
  need=$(missing $pkgs)
  [ -z "$need" ] && continue
  if [ -z "$updated" ]; then
    $SUDO apt-get update -q
    updated=1
  fi
  echo "Installing: $need"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $need
done

command -v cargo >/dev/null || {
  echo "cargo is missing: install Rust with rustup (https://rustup.rs), version 1.93 or later" >&2
  exit 1
}

# The German UI test runs under LANG=de_DE.UTF-8.
if [ "${1:-build}" != build ] && ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  echo "Generating the de_DE.UTF-8 locale"
  $SUDO localedef -i de_DE -c -f UTF-8 de_DE.UTF-8
fi
