//! The one error type of the crate: every variant names what was wrong and what is accepted.

use std::path::PathBuf;

/// A boxed error returned by user code (a preprocessing function, a pipeline step).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for `Result<T, augflow::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in augflow.
///
/// Each variant carries the parameter (or file) concerned, the offending value and what would
/// have been accepted, so the message alone tells a user what to change.
///
/// ```
/// use augflow::Error;
///
/// let err = augflow::iterators::check_index(7, 3).unwrap_err();
/// assert!(matches!(err, Error::IndexOutOfRange { index: 7, len: 3 }));
/// assert_eq!(err.to_string(), "Asked to retrieve element 7, but the Sequence has length 3");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter has a value outside what is accepted.
    #[error("invalid `{name}`: got {value}; expected {expected}")]
    InvalidParameter {
        /// The parameter's name, as the user spelled it (Keras names where they exist).
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What would be accepted.
        expected: String,
    },
    /// A parameter value that is valid in Keras but that augflow does not implement.
    #[error("unsupported `{name}` = {value}: {reason}")]
    Unsupported {
        /// The parameter's name.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// Why, and what to use instead.
        reason: String,
    },
    /// An array has the wrong rank or shape.
    #[error("`{name}` has shape {shape:?}; expected {expected}")]
    Shape {
        /// Which array.
        name: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// What shape would be accepted.
        expected: String,
    },
    /// Arrays that must hold one entry per sample have different lengths.
    #[error(
        "`{name}` has length {got} but `{other}` has length {expected}; they must have the same length"
    )]
    LengthMismatch {
        /// The array whose length is wrong.
        name: String,
        /// Its length.
        got: usize,
        /// The array it must match.
        other: String,
        /// The length it must have.
        expected: usize,
    },
    /// A batch or element index past the end (Keras' message).
    #[error("Asked to retrieve element {index}, but the Sequence has length {len}")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of elements.
        len: usize,
    },
    /// An input that must not be empty is empty.
    #[error("`{name}` is empty: {expected}")]
    Empty {
        /// Which input.
        name: &'static str,
        /// What is needed instead.
        expected: String,
    },
    /// The ZCA whitening matrix would not fit in the configured memory budget.
    #[error(
        "ZCA whitening of {features} features needs a {features}x{features} f64 matrix of {bytes} bytes, over the budget of {budget} bytes; downscale the images, or raise `zca_memory_budget`"
    )]
    ZcaTooLarge {
        /// d = H·W·C.
        features: usize,
        /// Bytes the d×d matrix needs.
        bytes: u128,
        /// The configured budget in bytes.
        budget: u128,
    },
    /// A featurewise or ZCA step is enabled but `fit` has not computed its statistics.
    #[error(
        "`{what}` is enabled but the generator has not been fit: call `fit()` on training data first (or `set_stats`); Keras only warns and skips the step"
    )]
    NotFitted {
        /// The flag whose statistics are missing.
        what: &'static str,
    },
    /// A numerical routine failed (e.g. the eigendecomposition for ZCA did not converge).
    #[error("numerical failure in {what}: {reason}")]
    Numerical {
        /// Which computation.
        what: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A class-aware split would give subsets with different label sets (Keras' check).
    #[error(
        "Training and validation subsets have different number of classes after the split. If your numpy arrays are sorted by the label, you might want to shuffle them (or set `ignore_class_split(true)`). Validation classes: {validation:?}, training classes: {training:?}"
    )]
    ClassSplit {
        /// Distinct labels in the validation part.
        validation: Vec<String>,
        /// Distinct labels in the training part.
        training: Vec<String>,
    },
    /// User code (a preprocessing function or pipeline step) returned an error or panicked.
    #[error("{what} failed: {message}")]
    UserFunction {
        /// Which user function (e.g. `preprocessing_function`).
        what: String,
        /// Its error message, or the panic payload.
        message: String,
    },
    /// A user function's outputs do not match the declared contract.
    #[error("{what}: {message}")]
    Contract {
        /// Which function.
        what: String,
        /// What did not match, with the position, the value returned and the one expected.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An image file could not be decoded or encoded.
    #[error("image error on {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: image::ImageError,
    },
    /// A file has content augflow cannot read (bad `.npy` header, bad JSON, bad CSV, ...).
    #[error("cannot read {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The end of a finite stream was reached (the Rust form of TensorFlow's `OutOfRangeError`).
    #[error("end of input: {0}")]
    EndOfInput(String),
}

impl Error {
    /// Builds an [`Error::InvalidParameter`].
    pub(crate) fn invalid(
        name: &'static str,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidParameter {
            name,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Checks that a user-supplied float is finite, naming the parameter otherwise.
pub(crate) fn check_finite(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::invalid(
            name,
            v,
            "a finite number (not NaN or infinite)",
        ))
    }
}

/// Runs user code `f`, turning a panic in it into [`Error::UserFunction`] for `what()`
/// (`"panicked: {message}"`), so no user panic unwinds through a pipeline.
pub(crate) fn catch_panic<T>(
    what: impl FnOnce() -> String,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(Error::UserFunction {
            what: what(),
            message: format!("panicked: {}", panic_message(&*payload)),
        })
    })
}

/// The text of a panic payload (`&str` or `String`; anything else is described as such).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
