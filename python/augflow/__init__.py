"""augflow: Keras' ``ImageDataGenerator``, reproducible and fast.

Replace ``from keras.preprocessing.image import ImageDataGenerator`` with
``from augflow import ImageDataGenerator``. Batches are numpy arrays built by augflow's
Rust engine with the GIL released; input arrays are read in place, without a copy.
"""

from . import layers, pipeline
from ._augflow import __version__, get_num_threads, set_num_threads
from ._errors import SequenceIndexError
from ._coco import CocoIterator
from ._dataframe import DataFrameIterator
from .image import (
    DirectoryIterator,
    ImageDataGenerator,
    Iterator,
    NumpyArrayIterator,
)

__all__ = [
    "CocoIterator",
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "SequenceIndexError",
    "__version__",
    "get_num_threads",
    "layers",
    "pipeline",
    "set_num_threads",
]
