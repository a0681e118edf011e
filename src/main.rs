//! `augflow`: preview, export and benchmark Keras-style augmentation from the command line.
//!
//! `cargo run --release` with no arguments writes a contact sheet of the built-in photos.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
