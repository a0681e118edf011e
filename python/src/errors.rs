//! One mapping from `augflow::Error` to the Python exception Keras raises for the same
//! mistake, and the slot that carries a Python exception raised inside a
//! `preprocessing_function` back to the caller, traceback included.

use std::sync::{Arc, Mutex};

use augflow::Error;
use pyo3::exceptions::{
    PyFileNotFoundError, PyIndexError, PyNotImplementedError, PyOSError, PyRuntimeError,
    PyStopIteration, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The first Python exception raised by user code since the slot was last emptied.
#[derive(Clone, Default)]
pub struct ErrSlot(Arc<Mutex<Option<PyErr>>>);

impl ErrSlot {
    /// Keeps `err` unless an earlier exception is waiting.
    pub fn store(&self, err: PyErr) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(err);
    }

    /// Takes the waiting exception, if any.
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The Python exception for `err`: `ValueError` for bad arguments and data, the sequence
/// index error (an `IndexError` that is also Keras' `ValueError`) for a batch index past the
/// end, `FileNotFoundError`/`OSError` for files, and the user's own exception, with its
/// traceback, when a `preprocessing_function` raised.
pub fn to_pyerr(py: Python<'_>, err: Error, slot: Option<&ErrSlot>) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::UserFunction { .. } => match slot.and_then(ErrSlot::take) {
            Some(original) => original,
            None => PyRuntimeError::new_err(msg),
        },
        Error::IndexOutOfRange { .. } => sequence_index_error(py, msg),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        Error::Io { .. } | Error::Image { .. } => PyOSError::new_err(msg),
        Error::Unsupported { .. } => PyNotImplementedError::new_err(msg),
        Error::EndOfInput(_) => PyStopIteration::new_err(msg),
        Error::InvalidParameter { .. }
        | Error::Shape { .. }
        | Error::LengthMismatch { .. }
        | Error::Empty { .. }
        | Error::ZcaTooLarge { .. }
        | Error::NotFitted { .. }
        | Error::Numerical { .. }
        | Error::ClassSplit { .. }
        | Error::Contract { .. }
        | Error::Format { .. } => PyValueError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

/// `augflow.SequenceIndexError(msg)`: Python's iteration protocol wants an `IndexError`,
/// Keras raises `ValueError`; the class derives from both.
pub fn sequence_index_error(py: Python<'_>, msg: String) -> PyErr {
    let class = py
        .import("augflow._errors")
        .and_then(|m| m.getattr("SequenceIndexError"))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, msg),
        Err(_) => PyIndexError::new_err(msg),
    }
}

/// A `ValueError` naming the argument, the value and what is accepted (augflow's wording).
pub fn invalid(name: &str, value: impl std::fmt::Display, expected: &str) -> PyErr {
    PyValueError::new_err(format!(
        "invalid `{name}`: got {value}; expected {expected}"
    ))
}
