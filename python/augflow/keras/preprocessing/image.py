"""Drop-in for ``keras.preprocessing.image`` (Keras 2.9): change the import line, nothing else.

Its ``ImageDataGenerator`` defaults to Keras' geometry (``geometry="keras"``: Keras 2.9's
arithmetic, quirks included); pass ``geometry="corrected"`` for the true image centre.

So far this module has the classes: ``ImageDataGenerator``, ``Iterator``,
``NumpyArrayIterator``, ``DirectoryIterator`` and ``DataFrameIterator``. Keras' functions
(``array_to_img``, ``img_to_array``, ``load_img``, ``save_img``, ``smart_resize``,
``apply_affine_transform``, ``random_rotation``, ...) are not here yet.
"""

from ... import image as _image
from ..._dataframe import DataFrameIterator
from ...image import DirectoryIterator, Iterator, NumpyArrayIterator

__all__ = [
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
]


class ImageDataGenerator(_image.ImageDataGenerator):
    __doc__ = _image.ImageDataGenerator.__doc__

    def __init__(
        self,
        featurewise_center=False,
        samplewise_center=False,
        featurewise_std_normalization=False,
        samplewise_std_normalization=False,
        zca_whitening=False,
        zca_epsilon=1e-6,
        rotation_range=0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range=0.0,
        zoom_range=0.0,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        rescale=None,
        preprocessing_function=None,
        data_format=None,
        validation_split=0.0,
        interpolation_order=1,
        dtype=None,
        geometry="keras",
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        super().__init__(**args)
