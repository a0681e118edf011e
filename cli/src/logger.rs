//! The command line's logger: the library's `log` messages ("Found N images belonging to K
//! classes.", Keras' warnings) and the command's own warnings, one line each on stderr.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Writes `augflow: warning: …` (or `error`, `info`, `debug`, `trace`) lines to stderr.
struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        eprintln!("augflow: {level}: {}", record.args());
    }

    fn flush(&self) {}
}

/// The level shown for `-v` given `verbose` times and `-q`: warnings by default, then info,
/// debug and trace; only errors with `-q`.
pub fn level(verbose: u8, quiet: bool) -> LevelFilter {
    match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, 2) => LevelFilter::Debug,
        (false, _) => LevelFilter::Trace,
    }
}

/// Installs the logger at `level` (once; a second call only changes the level).
pub fn install(level: LevelFilter) {
    static LOGGER: StderrLogger = StderrLogger;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_flags_choose_the_level() {
        assert_eq!(level(0, false), LevelFilter::Warn);
        assert_eq!(level(1, false), LevelFilter::Info);
        assert_eq!(level(2, false), LevelFilter::Debug);
        assert_eq!(level(5, false), LevelFilter::Trace);
        assert_eq!(level(2, true), LevelFilter::Error);
    }
}
