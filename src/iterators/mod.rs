//! Iterators: sequences of augmented batches over arrays or files.
//! One engine ([`BatchIterator`]) batches any [`BatchSource`]: array rows, class folders, CSV rows.

mod batch;
mod builder;
mod coco;
mod dataframe;
mod decode;
mod directory;
mod element;
mod engine;
mod files;
mod images;
mod jpeg;
mod mask_files;
mod numpy;
mod options;
mod pipelined;
mod resize_plan;
mod sequence;
mod shard;
mod source;
mod state;
mod subset;
mod targets;

pub use batch::{Batch, BatchParts};
pub use builder::IteratorBuilder;
pub use coco::{
    CocoAnnotations, CocoBuilder, CocoImageEntry, CocoImages, CocoIterator, CocoSpec, read_coco,
};
pub use dataframe::{CsvRows, DataFrameBuilder, DataFrameIterator, DataFrameSpec};
pub use decode::{
    ColorMode, LoadOptions, ResizeFilter, WHITE_LIST_FORMATS, is_whitelisted, load_img,
};
pub use directory::{
    ClassFolders, DirectoryBuilder, DirectoryIterator, DirectorySpec, class_folders,
};
pub use element::BatchElement;
pub use engine::BatchIterator;
pub use files::{ClassList, ClassMode, FileSource, FileSpec};
pub use images::{ImageStorage, Images};
pub use jpeg::JpegDecoder;
pub use mask_files::{load_mask, resize_mask};
pub use numpy::{ArraySource, ArraySpec, FlowBuilder, NumpyArrayIterator};
pub use options::BatchOptions;
pub use resize_plan::Crop;
pub use sequence::{Endless, Sequence, check_index};
pub use shard::{Shard, ShardRemainder};
pub use source::{BatchSource, Labels, SourceSpec};
pub(crate) use state::check_same_config;
pub use state::{IteratorState, Resumable};
pub use subset::Subset;
