//! gettext set-up; must run before any widget exists.

use gettextrs::{bind_textdomain_codeset, bindtextdomain, setlocale, textdomain, LocaleCategory};

use crate::{config, paths};

pub fn init() {
    // Safety: runs first thing in main, before any other thread exists.
    unsafe { setlocale(LocaleCategory::LcAll, "") };
    let dir = paths::locale_dir();
    if let Err(e) = bindtextdomain(config::GETTEXT_PACKAGE, dir.as_os_str()) {
        tracing::warn!("translations unavailable: {e}");
        return;
    }
    let _ = bind_textdomain_codeset(config::GETTEXT_PACKAGE, "UTF-8");
    let _ = textdomain(config::GETTEXT_PACKAGE);
}

pub use gettextrs::{gettext, ngettext, pgettext};

/// Marks a string for translation where it is made; it is translated
/// where it is shown (`gettext(s)`), e.g. a phrase kept in an error value.
pub const fn gettext_noop(msgid: &'static str) -> &'static str {
    msgid
}

/// gettext with `{name}` placeholders filled in, so translators see whole
/// sentences with named slots.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    let mut s = gettext(msgid);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}
