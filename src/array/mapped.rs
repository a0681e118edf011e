//! `.npy` files read in place: memory-mapped, like NumPy's `np.load(path, mmap_mode="r")`.
//!
//! Only the pages that are read become resident, so an array larger than memory can be
//! iterated. The header is checked exactly as [`read_npy`](super::read_npy) checks it.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use ndarray::{ArrayViewD, IxDyn, ShapeBuilder};

use super::dtype::{DType, Element};
use super::npy::{data_size, format_error};
use super::npy_header::{NpyHeader, read_header};
use crate::Result;

/// A `.npy` file mapped into memory, read-only: its header, and its data read in place.
///
/// The mapping is shared with the page cache, so opening costs no copy and no allocation of
/// the data's size, and pages are read from disk when first touched. The file must not be
/// truncated or rewritten while it is mapped (as with NumPy's memmaps, the process would
/// fault reading the missing pages).
///
/// ```
/// use augflow::array::{DType, DynArray, MappedNpy, write_npy};
///
/// let dir = std::env::temp_dir().join(format!("augflow-doc-mapped-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("a.npy");
/// write_npy(&path, &DynArray::from(ndarray::array![[1_u16, 2], [3, 4]]))?;
/// let mapped = MappedNpy::open(&path)?;
/// assert_eq!(mapped.dtype(), DType::U16);
/// assert_eq!(mapped.view::<u16>()?[[1, 0]], 3);
/// # drop(mapped);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), augflow::Error>(())
/// ```
pub struct MappedNpy {
    path: PathBuf,
    map: Mmap,
    header: NpyHeader,
    data_bytes: usize,
}

impl MappedNpy {
    /// Maps the `.npy` file at `path` (versions 1–3, C or Fortran order).
    ///
    /// Errors with [`Error::Io`](crate::Error::Io) when the file cannot be opened or mapped,
    /// and [`Error::Format`](crate::Error::Format) naming the file for a bad header, data
    /// shorter than the header says, or data that cannot be read in place: big-endian
    /// multi-byte values, `bool`, or values not aligned to their size.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |e| crate::Error::io(path, e);
        let file = File::open(path).map_err(io)?;
        let available = file.metadata().map_err(io)?.len();
        // SAFETY: the map is read-only; the file must not be truncated or modified while
        // mapped, as documented above (NumPy's `mmap_mode="r"` has the same contract).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let ctx = |m: String| format_error(path, m);
        let header = read_header(&mut &map[..], available).map_err(ctx)?;
        let (_, data_bytes) = data_size(&header, available).map_err(ctx)?;
        check_in_place(&header).map_err(ctx)?;
        let data_bytes = usize::try_from(data_bytes).expect("the data lies within the map");
        Ok(MappedNpy {
            path: path.to_path_buf(),
            map,
            header,
            data_bytes,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dtype the header declares.
    pub fn dtype(&self) -> DType {
        self.header.dtype
    }

    /// The shape the header declares.
    pub fn shape(&self) -> &[usize] {
        &self.header.shape
    }

    /// The data as an array of `T`, read in place. Errors with
    /// [`Error::Format`](crate::Error::Format) naming the file when `T` is not the file's
    /// dtype.
    pub fn view<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        if T::DTYPE != self.header.dtype {
            return Err(format_error(
                &self.path,
                format!(
                    "holds {} values; it was opened as {}",
                    self.header.dtype,
                    T::DTYPE
                ),
            ));
        }
        let bytes = self.data();
        let len = bytes.len() / size_of::<T>();
        // SAFETY: `open` checked that the data is aligned for its dtype, which is `T`, that
        // it is in the machine's byte order, and that the dtype is not `bool`: every bit
        // pattern of the remaining dtypes (integers and floats) is a valid `T`.
        let values = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), len) };
        let shape = IxDyn(&self.header.shape);
        let shape = shape.set_f(self.header.fortran_order);
        Ok(ArrayViewD::from_shape(shape, values).expect("the header's shape fits its data"))
    }

    /// Lets the pages holding `range` (bytes of the data) go from this process's resident
    /// memory; they are read again from the page cache or the file when next touched.
    /// `margin` bytes on each side are let go too (pages the kernel mapped around a fault).
    #[cfg(unix)]
    pub(crate) fn release(&self, range: std::ops::Range<usize>, margin: usize) {
        use memmap2::UncheckedAdvice;
        let offset = self.header.data_offset as usize;
        let start = (offset + range.start).saturating_sub(margin);
        let end = (offset + range.end + margin).min(self.map.len());
        // SAFETY: the map is a read-only shared file mapping: dropping its pages loses
        // nothing, and later reads fault them back in with the same bytes. A failure only
        // leaves the pages resident, so its result is ignored.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
        };
    }

    /// Not available outside Unix: pages stay resident until the map is dropped.
    #[cfg(not(unix))]
    pub(crate) fn release(&self, _range: std::ops::Range<usize>, _margin: usize) {}

    fn data(&self) -> &[u8] {
        let offset = self.header.data_offset as usize;
        &self.map[offset..offset + self.data_bytes]
    }

    pub(crate) fn fortran_order(&self) -> bool {
        self.header.fortran_order
    }
}

/// Whether the data can be used where it lies: machine byte order, aligned, not `bool`.
fn check_in_place(header: &NpyHeader) -> std::result::Result<(), String> {
    let dtype = header.dtype;
    if dtype == DType::Bool {
        return Err("bool arrays cannot be memory-mapped; read them with read_npy".into());
    }
    if header.big_endian != cfg!(target_endian = "big") && dtype.size_of() > 1 {
        return Err(format!(
            "its {dtype} values are stored in the other byte order and cannot be memory-mapped; \
             read it with read_npy, or save it in the machine's order (np.save(path, x.astype(x.dtype.newbyteorder('=')))"
        ));
    }
    // The map starts on a page boundary, so the data is aligned when its offset is.
    if !header.data_offset.is_multiple_of(dtype.size_of() as u64) {
        return Err(format!(
            "its data starts at byte {}, not aligned to its {}-byte {dtype} values; \
             read it with read_npy, or save it again with NumPy (which aligns the data)",
            header.data_offset,
            dtype.size_of()
        ));
    }
    Ok(())
}

impl fmt::Debug for MappedNpy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedNpy")
            .field("path", &self.path)
            .field("dtype", &self.header.dtype)
            .field("shape", &self.header.shape)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::array::npy::hand_made_npy;
    use crate::array::{DynArray, read_npy, write_npy};

    fn dir(tag: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("augflow-mapped-{tag}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn a_mapped_file_reads_the_values_read_npy_reads() {
        let d = dir("same");
        let p = d.path().join("a.npy");
        let a = ndarray::Array::from_shape_fn((3, 4, 5, 2), |(n, i, j, c)| {
            (n * 1000 + i * 100 + j * 10 + c) as f32 * 0.5
        });
        write_npy(&p, &DynArray::from(a.clone().into_dyn())).unwrap();
        let mapped = MappedNpy::open(&p).unwrap();
        assert_eq!(mapped.view::<f32>().unwrap(), a.into_dyn().view());
        assert_eq!(
            read_npy(&p).unwrap().into_array::<f32>().unwrap(),
            mapped.view::<f32>().unwrap()
        );
    }

    #[test]
    fn fortran_order_is_viewed_in_place_at_the_right_positions() {
        let d = dir("fortran");
        let p = d.path().join("a.npy");
        std::fs::write(
            &p,
            hand_made_npy("|u1", true, "(2, 3)", &[1, 4, 2, 5, 3, 6]),
        )
        .unwrap();
        let mapped = MappedNpy::open(&p).unwrap();
        assert_eq!(
            mapped.view::<u8>().unwrap(),
            ndarray::array![[1_u8, 2, 3], [4, 5, 6]].into_dyn()
        );
    }

    #[test]
    fn the_wrong_dtype_is_an_error_naming_the_file_and_both_dtypes() {
        let d = dir("dtype");
        let p = d.path().join("a.npy");
        write_npy(&p, &DynArray::from(vec![1_u16, 2])).unwrap();
        let err = MappedNpy::open(&p).unwrap().view::<f32>().unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::Format { path, .. } if path == &p),
            "{msg}"
        );
        assert!(msg.contains("uint16") && msg.contains("float32"), "{msg}");
    }

    #[test]
    fn data_shorter_than_the_header_says_is_refused_before_mapping_is_used() {
        let d = dir("short");
        let p = d.path().join("a.npy");
        std::fs::write(
            &p,
            hand_made_npy("<f8", false, "(1000000000000,)", &[0; 16]),
        )
        .unwrap();
        let err = MappedNpy::open(&p).unwrap_err();
        assert!(
            matches!(&err, Error::Format { path, .. } if path == &p),
            "{err}"
        );
    }

    #[test]
    fn values_that_cannot_be_read_in_place_are_refused_with_the_way_out() {
        let d = dir("inplace");
        let other_order = if cfg!(target_endian = "big") {
            "<u2"
        } else {
            ">u2"
        };
        let cases = [
            (other_order, vec![0_u8; 4], "byte order"),
            ("|b1", vec![0_u8, 1], "bool"),
        ];
        for (descr, data, what) in cases {
            let p = d.path().join("a.npy");
            std::fs::write(&p, hand_made_npy(descr, false, "(2,)", &data)).unwrap();
            let msg = MappedNpy::open(&p).unwrap_err().to_string();
            assert!(
                msg.contains(what) && msg.contains("read_npy"),
                "{descr}: {msg}"
            );
        }
    }

    #[test]
    fn misaligned_data_is_refused_though_read_npy_reads_it() {
        let d = dir("align");
        let p = d.path().join("a.npy");
        // A version 1.0 header whose data starts at byte 69: not a multiple of 4.
        let mut dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }".to_string();
        while 10 + dict.len() + 1 < 69 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend([1.5_f32, 2.5].iter().flat_map(|v| v.to_le_bytes()));
        std::fs::write(&p, bytes).unwrap();
        assert_eq!(read_npy(&p).unwrap().to_vec::<f32>().unwrap(), [1.5, 2.5]);
        let msg = MappedNpy::open(&p).unwrap_err().to_string();
        assert!(msg.contains("aligned") && msg.contains("69"), "{msg}");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let d = dir("missing");
        let p = d.path().join("nope.npy");
        let err = MappedNpy::open(&p).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == &p),
            "{err}"
        );
    }
}
