//! Checks of a batch's shape against the generator's data format: the rank (an error) and
//! the channel axis (Keras' warning, spec §13 step 8).

use ndarray::{Array4, ArrayD, Ix4};

use super::ImageDataGenerator;
use crate::transform::DataFormat;
use crate::{Error, Result};

/// The batch axes of `format`, for messages.
fn batch_axes(format: DataFormat) -> &'static str {
    match format {
        DataFormat::ChannelsLast => "(N, H, W, C)",
        DataFormat::ChannelsFirst => "(N, C, H, W)",
    }
}

/// The channel axis of a rank-4 batch in `format`, and the one of the other format.
fn channel_axes(format: DataFormat) -> (usize, usize) {
    match format {
        DataFormat::ChannelsLast => (3, 1),
        DataFormat::ChannelsFirst => (1, 3),
    }
}

fn tuple(shape: &[usize]) -> String {
    let items: Vec<String> = shape.iter().map(usize::to_string).collect();
    match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

/// Keras' warning for a batch whose channel axis does not hold 1, 3 or 4 channels, with a
/// hint when the other layout's channel axis does (channels-last data given to a
/// channels-first generator, or the reverse). `None` when the layout looks right or the
/// shape is not rank 4.
pub(crate) fn layout_warning(shape: &[usize], format: DataFormat) -> Option<String> {
    if shape.len() != 4 {
        return None;
    }
    let (axis, other) = channel_axes(format);
    let fits = |k: usize| matches!(shape[k], 1 | 3 | 4);
    if fits(axis) {
        return None;
    }
    let mut msg = format!(
        "NumpyArrayIterator is set to use the data format convention \"{format}\" (channels on axis {axis}), i.e. expected either 1, 3, or 4 channels on axis {axis}. However, it was passed an array with shape {} ({} channels).",
        tuple(shape),
        shape[axis]
    );
    if fits(other) {
        let other_format = match format {
            DataFormat::ChannelsLast => DataFormat::ChannelsFirst,
            DataFormat::ChannelsFirst => DataFormat::ChannelsLast,
        };
        msg.push_str(&format!(
            " It looks like {other_format} data {}: set `data_format` to \"{other_format}\" or transpose the array.",
            batch_axes(other_format)
        ));
    }
    Some(msg)
}

impl ImageDataGenerator {
    /// Keras' warning (spec §13) when a batch of shape `shape` does not have 1, 3 or 4
    /// channels on this generator's channel axis, or `None` when it does. When the other data
    /// format's channel axis would fit, the text says so: channels-last data `(4, 32, 32, 3)`
    /// given to a channels-first generator is the usual mistake.
    ///
    /// ```
    /// use augflow::{DataFormat, ImageDataGenerator};
    /// let datagen = ImageDataGenerator::builder().data_format(DataFormat::ChannelsFirst).build()?;
    /// let warning = datagen.layout_warning(&[4, 32, 32, 3]).unwrap();
    /// assert!(warning.contains("(32 channels)") && warning.contains("channels_last"));
    /// assert!(datagen.layout_warning(&[4, 3, 32, 32]).is_none());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn layout_warning(&self, shape: &[usize]) -> Option<String> {
        layout_warning(shape, self.config.data_format)
    }

    /// Checks that `x` (for example an array read from an `.npy` file) is a batch of images
    /// of rank 4 in this generator's data format, and returns it as an [`Array4`]; otherwise
    /// [`Error::Shape`] naming `x`, its shape and the rank expected.
    ///
    /// ```
    /// use augflow::{Error, ImageDataGenerator};
    /// use ndarray::ArrayD;
    /// let datagen = ImageDataGenerator::builder().build()?;
    /// let err = datagen.batch_array(ArrayD::<f32>::zeros(vec![22, 3, 5])).unwrap_err();
    /// assert!(matches!(err, Error::Shape { name: "x", .. }));
    /// assert_eq!(err.to_string(), "`x` has shape [22, 3, 5]; expected rank 4 (N, H, W, C)");
    /// assert_eq!(datagen.batch_array(ArrayD::<u8>::zeros(vec![2, 4, 4, 3]))?.dim(), (2, 4, 4, 3));
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn batch_array<T>(&self, x: ArrayD<T>) -> Result<Array4<T>> {
        let shape = x.shape().to_vec();
        x.into_dimensionality::<Ix4>().map_err(|_| Error::Shape {
            name: "x",
            shape,
            expected: format!("rank 4 {}", batch_axes(self.config.data_format)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_data_under_channels_first_is_flagged_with_a_hint() {
        let w = layout_warning(&[4, 32, 32, 3], DataFormat::ChannelsFirst).unwrap();
        assert!(w.contains("\"channels_first\" (channels on axis 1)"), "{w}");
        assert!(w.contains("shape (4, 32, 32, 3) (32 channels)"), "{w}");
        assert!(w.contains("set `data_format` to \"channels_last\""), "{w}");
    }

    #[test]
    fn channels_first_data_under_channels_last_is_flagged_with_a_hint() {
        let w = layout_warning(&[8, 3, 64, 64], DataFormat::ChannelsLast).unwrap();
        assert!(
            w.contains("(64 channels)") && w.contains("\"channels_first\""),
            "{w}"
        );
    }

    #[test]
    fn matching_layouts_and_other_ranks_give_no_warning() {
        for c in [1, 3, 4] {
            assert_eq!(
                layout_warning(&[2, 5, 7, c], DataFormat::ChannelsLast),
                None
            );
            assert_eq!(
                layout_warning(&[2, c, 5, 7], DataFormat::ChannelsFirst),
                None
            );
        }
        assert_eq!(
            layout_warning(&[32, 32, 5], DataFormat::ChannelsFirst),
            None
        );
    }

    #[test]
    fn odd_channel_counts_warn_without_a_layout_hint() {
        let w = layout_warning(&[2, 5, 7, 2], DataFormat::ChannelsLast).unwrap();
        assert!(
            w.contains("(2 channels)") && !w.contains("looks like"),
            "{w}"
        );
    }
}
