//! `preprocessing_function`: user code run on each image before the other standardization steps.

use ndarray::ArrayViewMut3;

use crate::error::catch_panic;
use crate::transform::ImageMut;
use crate::{BoxError, Error, Result};

/// A user function applied in place to each augmented image, first step of `standardize`
/// (spec §9). It must be `Send + Sync`: samples are processed in parallel.
///
/// Any closure `Fn(ArrayViewMut3<f32>) -> Result<(), BoxError>` is a `Preprocess`; it also
/// serves `f64` batches (through an `f32` copy). Implement the trait yourself to handle `f64`
/// natively. An error or a panic in user code becomes [`Error::UserFunction`].
///
/// ```
/// use augflow::{BoxError, ImageDataGenerator};
/// use ndarray::{Array3, ArrayViewMut3};
///
/// let datagen = ImageDataGenerator::builder()
///     .preprocessing_function(|mut x: ArrayViewMut3<f32>| -> Result<(), BoxError> {
///         x.mapv_inplace(|v| 255.0 - v);
///         Ok(())
///     })
///     .build()
///     .unwrap();
/// let mut img = Array3::<f32>::from_elem((2, 2, 3), 5.0);
/// datagen.standardize(img.view_mut()).unwrap();
/// assert!(img.iter().all(|&v| v == 250.0));
/// ```
pub trait Preprocess: Send + Sync {
    /// Transforms one image in place.
    fn apply(&self, image: ImageMut<'_>) -> Result<(), BoxError>;
}

impl<F> Preprocess for F
where
    F: Fn(ArrayViewMut3<'_, f32>) -> Result<(), BoxError> + Send + Sync,
{
    fn apply(&self, image: ImageMut<'_>) -> Result<(), BoxError> {
        match image {
            ImageMut::F32(x) => self(x),
            ImageMut::F64(mut x) => {
                let mut tmp = x.mapv(|v| v as f32);
                self(tmp.view_mut())?;
                x.zip_mut_with(&tmp, |d, &s| *d = s as f64);
                Ok(())
            }
        }
    }
}

/// Runs user code, turning its error or panic into [`Error::UserFunction`].
pub(crate) fn run_user(what: &str, f: impl FnOnce() -> Result<(), BoxError>) -> Result<()> {
    catch_panic(
        || what.to_string(),
        || {
            f().map_err(|e| Error::UserFunction {
                what: what.to_string(),
                message: e.to_string(),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_user_code_reports_its_message() {
        let err = run_user("preprocessing_function", || panic!("boom")).unwrap_err();
        assert!(err.to_string().contains("panicked: boom"), "{err}");
        let n = 3;
        let err = run_user("f", || panic!("bad {n}")).unwrap_err();
        assert!(err.to_string().contains("panicked: bad 3"), "{err}");
    }
}
