//! The `log` facade, routed to the console with the plugin's name and level.

use crate::guest::host;

struct ConsoleLogger;

impl log::Log for ConsoleLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        host::log(record.level(), &record.args().to_string());
    }

    fn flush(&self) {}
}

/// Makes `log::info!` and friends reach the console. Called from `valor_init`.
pub(crate) fn install() {
    // Fails only if a logger is already set (a plugin that set its own): keep that one.
    if log::set_logger(&ConsoleLogger).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}
