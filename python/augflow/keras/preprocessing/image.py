"""Drop-in for ``keras.preprocessing.image`` (Keras 2.9): change the import line, nothing else.

Its ``ImageDataGenerator`` defaults to Keras' geometry (``geometry="keras"``: Keras 2.9's
sampling points, quirks included) with augflow's fast kernel (``kernel="fast"``: values
within about 1e-4 of Keras' on a 0..255 scale). ``kernel="exact"`` gives Keras' numbers bit
for bit, several times slower; ``geometry="corrected"`` turns about the true image centre.

Every public name of Keras 2.9's module is here, with Keras' signature and defaults:

* classes: ``ImageDataGenerator``, ``Iterator``, ``NumpyArrayIterator``,
  ``DirectoryIterator``, ``DataFrameIterator``;
* image utilities: ``array_to_img``, ``img_to_array``, ``load_img``, ``save_img`` (PIL
  images, through Pillow, imported when they are called) and ``smart_resize`` (numpy, no
  TensorFlow: ``"bilinear"`` and ``"nearest"``);
* transforms of one image: ``apply_affine_transform`` (scipy's result, bit for bit, from
  augflow's kernel), ``apply_channel_shift``, ``apply_brightness_shift`` (Keras' PIL
  arithmetic, without PIL);
* ``random_rotation``, ``random_shift``, ``random_shear``, ``random_zoom``,
  ``random_channel_shift``, ``random_brightness``: as in Keras, they draw from numpy's
  global generator (``np.random.uniform``), so ``np.random.seed(s)`` makes them repeatable
  and gives Keras' own draws. Like Keras, they default to channels-first axes
  (``row_axis=1, col_axis=2, channel_axis=0``): pass ``row_axis=0, col_axis=1,
  channel_axis=2`` for an ``(H, W, C)`` image.
"""

from ... import image as _image
from ..._dataframe import DataFrameIterator
from ..._functions import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
)
from ..._imageio import array_to_img, img_to_array, load_img, save_img, smart_resize
from ...image import DirectoryIterator, Iterator, NumpyArrayIterator

__all__ = [
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "img_to_array",
    "load_img",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
    "save_img",
    "smart_resize",
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
        kernel="fast",
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        super().__init__(**args)
