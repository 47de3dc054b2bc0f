//! `--debug`: log lines on stderr. Without it nothing is logged. Secrets are never logged;
//! the types that carry them cannot print themselves.

use std::io::Write;

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("vault") {
            let _ = writeln!(std::io::stderr().lock(), "vault: debug: {}", record.args());
        }
    }

    fn flush(&self) {}
}

pub(crate) fn init(debug: bool) {
    if debug && log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}
