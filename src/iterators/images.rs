//! Where `flow`'s images live: in memory, in a memory-mapped `.npy`, or in a buffer owned by
//! someone else (a NumPy array). One trait, so the batch engine never copies them.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use ndarray::{ArcArray, Array4, ArrayView4, Ix4};

use crate::array::{Element, MappedNpy};
use crate::transform::Pixel;
use crate::{Error, Result};

/// Storage of `flow`'s images: `(N, H, W, C)` (or `(N, C, H, W)`) values of `T` that the
/// iterator reads without copying.
///
/// augflow implements it for in-memory arrays and for memory-mapped `.npy` files
/// ([`Images::open_npy`]). Implement it for images owned by another runtime (a NumPy array,
/// a tensor): keep the owner alive in the struct and return a view of its data.
///
/// ```
/// use augflow::iterators::{ImageStorage, Images};
/// use ndarray::ArrayView4;
///
/// /// Images held by "another runtime": here just a Vec with a shape.
/// #[derive(Debug)]
/// struct Foreign { data: Vec<u8>, shape: (usize, usize, usize, usize) }
///
/// impl ImageStorage<u8> for Foreign {
///     fn view(&self) -> ArrayView4<'_, u8> {
///         ArrayView4::from_shape(self.shape, &self.data).expect("shape matches the data")
///     }
/// }
///
/// let images = Images::from_storage(Foreign { data: vec![7; 2 * 4 * 4 * 3], shape: (2, 4, 4, 3) });
/// let datagen = augflow::ImageDataGenerator::builder().build()?;
/// let it = datagen.flow(images).batch_size(2).shuffle(false).build()?;
/// use augflow::Sequence;
/// assert_eq!(it.get(0)?.x[[1, 3, 3, 2]], 7.0);
/// # Ok::<(), augflow::Error>(())
/// ```
pub trait ImageStorage<T>: Send + Sync + fmt::Debug {
    /// Every image, as one 4-D view.
    fn view(&self) -> ArrayView4<'_, T>;

    /// Called once sample `index` has been read into a batch, so storage that maps a file
    /// can let its pages go. The default does nothing.
    fn release(&self, index: usize) {
        let _ = index;
    }
}

/// Images in memory, shared.
struct InMemory<T>(ArcArray<T, Ix4>);

impl<T: Pixel> ImageStorage<T> for InMemory<T> {
    fn view(&self) -> ArrayView4<'_, T> {
        self.0.view()
    }
}

impl<T> fmt::Debug for InMemory<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in-memory images of shape {:?}", self.0.shape())
    }
}

/// The images of `flow`, shared without copying: an in-memory array, a memory-mapped `.npy`
/// ([`Images::open_npy`]) or any [`ImageStorage`]. Cloning shares the storage.
///
/// `flow` takes anything that converts into it: an owned `Array4` (moved, not copied), an
/// `ArcArray` (shared), or an `Images`.
///
/// ```
/// use augflow::iterators::Images;
/// use ndarray::Array4;
///
/// let images: Images<u8> = Array4::zeros((3, 8, 8, 1)).into();
/// assert_eq!(images.view().shape(), &[3, 8, 8, 1]);
/// ```
#[derive(Clone)]
pub struct Images<T> {
    storage: Arc<dyn ImageStorage<T>>,
}

impl<T: Pixel> Images<T> {
    /// Images read through `storage`, which stays alive as long as any iterator uses it.
    pub fn from_storage(storage: impl ImageStorage<T> + 'static) -> Self {
        Images {
            storage: Arc::new(storage),
        }
    }

    /// Every image, as one 4-D view.
    pub fn view(&self) -> ArrayView4<'_, T> {
        self.storage.view()
    }

    /// The shape `(N, H, W, C)` (or `(N, C, H, W)`).
    pub fn shape(&self) -> [usize; 4] {
        let v = self.storage.view();
        let s = v.shape();
        [s[0], s[1], s[2], s[3]]
    }

    /// The images of a `(N, H, W, C)` (or `(N, C, H, W)`) `.npy` file of `T`, memory-mapped:
    /// read in place, like NumPy's `np.load(path, mmap_mode="r")`, so a file larger than
    /// memory can be iterated.
    ///
    /// Resident memory stays bounded by what is being read: once a sample is in its batch,
    /// the pages holding it are let go (on Unix), and read again from the page cache or the
    /// disk when the next epoch needs them. The file must not be truncated or rewritten
    /// while an iterator reads it.
    ///
    /// Errors as [`MappedNpy::open`] does, with [`Error::Format`] naming the file when it
    /// holds another dtype than `T`, and with [`Error::Shape`] when it is not 4-D.
    ///
    /// ```
    /// use augflow::array::{DynArray, write_npy};
    /// use augflow::iterators::Images;
    /// use augflow::{ImageDataGenerator, Sequence};
    ///
    /// let dir = std::env::temp_dir().join(format!("augflow-doc-open-npy-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("x.npy");
    /// write_npy(&path, &DynArray::from(ndarray::Array4::<u8>::from_elem((5, 8, 8, 3), 9)))?;
    ///
    /// let x = Images::<u8>::open_npy(&path)?;
    /// let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
    /// let it = datagen.flow(x).batch_size(2).seed(1).build()?;
    /// assert_eq!(it.len(), 3);
    /// assert_eq!(it.get(0)?.x[[0, 0, 0, 0]], 9.0);
    /// # drop(it);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn open_npy(path: impl AsRef<Path>) -> Result<Self>
    where
        T: Element,
    {
        let mapped = MappedNpy::open(path)?;
        mapped.view::<T>()?;
        if mapped.shape().len() != 4 {
            return Err(Error::Shape {
                name: "x",
                shape: mapped.shape().to_vec(),
                expected: "rank 4: (N, H, W, C), or (N, C, H, W) for channels_first".into(),
            });
        }
        Ok(Images::from_storage(MappedImages { mapped }))
    }

    pub(crate) fn release(&self, index: usize) {
        self.storage.release(index);
    }
}

/// A memory-mapped 4-D `.npy` of images, from [`Images::open_npy`].
#[derive(Debug)]
struct MappedImages {
    mapped: MappedNpy,
}

/// The kernel maps up to this many bytes around a faulting page ("fault-around"); releasing
/// this much beyond a sample also drops the neighbours' pages mapped with it.
const FAULT_AROUND: usize = 64 << 10;

impl<T: Pixel + Element> ImageStorage<T> for MappedImages {
    fn view(&self) -> ArrayView4<'_, T> {
        let view = self.mapped.view::<T>().expect("dtype checked when opened");
        view.into_dimensionality()
            .expect("rank checked when opened")
    }

    fn release(&self, index: usize) {
        if self.mapped.fortran_order() {
            return; // a sample is not contiguous; its pages go when the map is dropped
        }
        let shape = self.mapped.shape();
        let sample = shape[1] * shape[2] * shape[3] * size_of::<T>();
        self.mapped
            .release(index * sample..(index + 1) * sample, FAULT_AROUND);
    }
}

impl<T> fmt::Debug for Images<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.storage.fmt(f)
    }
}

impl<T: Pixel> From<ArcArray<T, Ix4>> for Images<T> {
    fn from(x: ArcArray<T, Ix4>) -> Self {
        Images::from_storage(InMemory(x))
    }
}

impl<T: Pixel> From<Array4<T>> for Images<T> {
    fn from(x: Array4<T>) -> Self {
        Images::from_storage(InMemory(x.into_shared()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_array_is_moved_not_copied() {
        let x = Array4::<f32>::zeros((2, 3, 3, 1));
        let ptr = x.as_ptr();
        let images: Images<f32> = x.into();
        assert_eq!(images.view().as_ptr(), ptr);
        assert_eq!(images.shape(), [2, 3, 3, 1]);
    }

    #[test]
    fn a_shared_array_stays_shared() {
        let x = ArcArray::<u8, Ix4>::zeros((1, 2, 2, 3));
        let images: Images<u8> = x.clone().into();
        assert_eq!(images.clone().view().as_ptr(), x.as_ptr());
    }

    fn npy_of(x: &Array4<u8>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let a = crate::array::DynArray::from(x.clone().into_dyn());
        crate::array::write_npy(&path, &a).unwrap();
        (dir, path)
    }

    #[test]
    fn a_mapped_npy_gives_the_batches_of_the_array_in_memory() {
        use crate::{ImageDataGenerator, Sequence};
        let x = Array4::from_shape_fn((7, 9, 11, 3), |(n, i, j, c)| {
            (n * 31 + i * 7 + j * 3 + c) as u8
        });
        let (_dir, path) = npy_of(&x);
        let datagen = ImageDataGenerator::builder()
            .rotation_range(30.0)
            .horizontal_flip(true)
            .build()
            .unwrap();
        let build =
            |images: Images<u8>| datagen.flow(images).batch_size(3).seed(5).build().unwrap();
        let (mut mapped, mut memory) = (build(Images::open_npy(&path).unwrap()), build(x.into()));
        for epoch in 0..2 {
            for i in 0..memory.len() {
                let (a, b) = (mapped.get(i).unwrap(), memory.get(i).unwrap());
                assert_eq!(a.x, b.x, "epoch {epoch} batch {i}");
            }
            mapped.on_epoch_end();
            memory.on_epoch_end();
        }
    }

    #[test]
    fn a_mapped_npy_of_another_rank_or_dtype_is_refused_naming_what_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let rank3 =
            crate::array::DynArray::from(ndarray::Array3::<u8>::zeros((22, 3, 5)).into_dyn());
        crate::array::write_npy(&path, &rank3).unwrap();
        let err = Images::<u8>::open_npy(&path).unwrap_err();
        assert!(matches!(err, Error::Shape { name: "x", .. }), "{err}");
        assert!(
            err.to_string().contains("[22, 3, 5]") && err.to_string().contains("rank 4"),
            "{err}"
        );
        let err = Images::<f32>::open_npy(&path).unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err}");
    }
}
