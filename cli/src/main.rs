//! `augflow`: preview, export and benchmark Keras-style augmentation from the command line.
//!
//! `cargo run --release` with no arguments writes a contact sheet of the built-in photos.
//! This file holds the argument definitions, the dispatch, and the one-line errors.

mod bench;
mod bench_recipe;
mod config;
mod display;
mod export;
mod input;
mod logger;
mod overlay;
mod preview;
mod sheet;
mod source;
mod targets;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// An error for the user: one line, printed as `augflow: error: …`.
#[derive(Debug)]
pub struct CliError(pub String);

impl From<augflow::Error> for CliError {
    fn from(e: augflow::Error) -> Self {
        CliError(e.to_string())
    }
}

/// Builds a [`CliError`] from anything printable.
pub fn fail<T>(msg: impl Into<String>) -> Result<T, CliError> {
    Err(CliError(msg.into()))
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Keras' ImageDataGenerator from the command line: preview augmentations as a contact sheet,
/// export augmented datasets, measure throughput.
///
/// With no subcommand, runs `preview` (on the built-in photos when no input is given).
#[derive(Parser, Debug)]
#[command(name = "augflow", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    preview: preview::PreviewArgs,
    /// Show more of the library's messages: -v info ("Found N images belonging to K classes."), -vv debug
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet")]
    verbose: u8,
    /// Show no warnings, only errors
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a contact sheet: each input image, then K augmented versions (the default).
    Preview(preview::PreviewArgs),
    /// Augment a dataset for E epochs into a folder of image files (resumable).
    Export(export::ExportArgs),
    /// Measure the standard workload's throughput beside the u8 -> f32 copy floor.
    Bench(bench::BenchArgs),
    /// Measure the ImageNet recipes (RandomResizedCrop, flip, colour jitter, normalize; and
    /// RandAugment) on 375x500 u8 images.
    BenchRecipe(bench_recipe::RecipeArgs),
}

/// Runs the command line and returns the exit status; errors are one line on stderr.
fn main() -> ExitCode {
    // An internal bug must still end in one line, not a panic trace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "augflow: internal error: {}{at} (please report this)",
            one_line(&msg)
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("augflow: error: {} (see --help)", one_line(first));
            return ExitCode::from(2);
        }
    };
    logger::install(logger::level(cli.verbose, cli.quiet));
    let result = match cli.command {
        None => preview::run(cli.preview),
        Some(Command::Preview(a)) => preview::run(a),
        Some(Command::Export(a)) => export::run(a),
        Some(Command::Bench(a)) => bench::run(a),
        Some(Command::BenchRecipe(a)) => bench_recipe::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(msg)) => {
            eprintln!("augflow: error: {}", one_line(&msg));
            ExitCode::FAILURE
        }
    }
}

/// Collapses a message to one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `A,B` into two numbers.
pub fn parse_pair(s: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [a, b] => Ok([parse_number(a)?, parse_number(b)?]),
        _ => Err(format!("expected two numbers `LO,HI`, got {s:?}")),
    }
}

/// Parses a number, also as a fraction `A/B` (e.g. `1/255`).
pub fn parse_number(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once('/') {
        let (a, b) = (parse_number(a)?, parse_number(b)?);
        if b == 0.0 {
            return Err(format!("division by zero in {s:?}"));
        }
        return Ok(a / b);
    }
    s.parse::<f64>()
        .map_err(|_| format!("expected a number, got {s:?}"))
}

/// Parses `H,W` (or one number for a square) into a positive size.
pub fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let parse = |t: &str| -> Result<usize, String> {
        match t.trim().parse::<usize>() {
            Ok(v) if (1..=16384).contains(&v) => Ok(v),
            _ => Err(format!("expected a size in pixels 1..=16384, got {t:?}")),
        }
    };
    match s.split(',').collect::<Vec<_>>().as_slice() {
        [a] => Ok((parse(a)?, parse(a)?)),
        [h, w] => Ok((parse(h)?, parse(w)?)),
        _ => Err(format!("expected `H,W` or `N`, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn numbers_accept_fractions_and_reject_junk() {
        assert_eq!(parse_number("1/255").unwrap(), 1.0 / 255.0);
        assert_eq!(parse_number("0.5").unwrap(), 0.5);
        assert!(parse_number("1/0").is_err());
        assert!(parse_number("abc").is_err());
        assert_eq!(parse_pair("0.7, 1.3").unwrap(), [0.7, 1.3]);
        assert!(parse_pair("0.7").is_err());
        assert_eq!(parse_size("64").unwrap(), (64, 64));
        assert_eq!(parse_size("32,48").unwrap(), (32, 48));
        assert!(parse_size("0,4").is_err());
    }

    #[test]
    fn messages_become_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
