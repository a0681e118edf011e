"""Types of the native module (the Rust extension). Use the classes of ``augflow`` instead."""

from os import PathLike
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

__version__: str

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...

_Batch = Union[np.ndarray, tuple, list]
# (num_shards, shard_index, shard_remainder)
_Shard = tuple[int, int, str]
# What `flow` moves with its images, every key present (see `augflow._targets.FlowTargets`):
# masks (uint8/uint16/float32 ndarray or None), mask_value, bboxes and keypoints (lists of
# float32 (k, 4) / (k, 2) arrays or None), bbox_labels and keypoint_labels (lists of int64
# arrays), bbox_format, min_area, min_visibility, max_bboxes (int or None), remove_invisible.
_Targets = dict[str, Any]

def check_layer(layer: str) -> None: ...

# `augflow.layers.Pipeline`'s engine; `layers`: the JSON list of the layers' dicts. Draws
# (`params`) travel as JSON text: one entry per layer.
class _Augment:
    def __init__(self, layers: str) -> None: ...
    def output_size(self, height: int, width: int) -> tuple[int, int]: ...
    def per_sample_json(self) -> str: ...
    def has_batch_layer(self) -> bool: ...
    def call(
        self, x: np.ndarray, seed: int, epoch: int, index: int, labels: Optional[np.ndarray] = None
    ) -> tuple[np.ndarray, Optional[np.ndarray]]: ...
    def draw(self, x: Any, seed: int, epoch: int, index: int) -> str: ...
    def apply(
        self, x: np.ndarray, params: str, labels: Optional[np.ndarray] = None
    ) -> tuple[np.ndarray, Optional[np.ndarray]]: ...
    def sample(
        self,
        x: np.ndarray,
        params: Optional[str],
        seed: int,
        epoch: int,
        index: int,
        mask: Optional[np.ndarray] = None,
        boxes: Optional[tuple[np.ndarray, list[int], str]] = None,
        keypoints: Optional[np.ndarray] = None,
    ) -> tuple[
        np.ndarray,
        Optional[np.ndarray],
        Optional[np.ndarray],
        Optional[list[int]],
        Optional[tuple[np.ndarray, list[bool]]],
    ]: ...

class _Iterator:
    def __len__(self) -> int: ...
    def get(self, idx: int) -> _Batch: ...
    def on_epoch_end(self) -> None: ...
    def set_epoch(self, epoch: int) -> None: ...
    def batch_indices(self, idx: int) -> list[int]: ...
    def files_info(self) -> Optional[dict[str, Any]]: ...
    def batch_padding(self, idx: int) -> int: ...
    def state_json(self, position: int) -> str: ...
    def restore_json(self, state: str) -> int: ...
    @property
    def shard(self) -> tuple[int, int, str]: ...
    @property
    def epoch(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def n(self) -> int: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def shuffle(self) -> bool: ...
    @property
    def image_shape(self) -> tuple[int, int, int]: ...

class _Generator:
    def __init__(self, config: str, preprocessing_function: Optional[Any] = None) -> None: ...
    def config_json(self) -> str: ...
    def flow(
        self,
        x: np.ndarray,
        y: Optional[np.ndarray],
        sample_weight: Optional[np.ndarray],
        extras: Sequence[np.ndarray],
        batch_size: int,
        shuffle: bool,
        seed: Optional[int],
        save_to_dir: Optional[Union[str, PathLike]],
        save_prefix: str,
        save_format: str,
        ignore_class_split: bool,
        subset: Optional[str],
        shard: _Shard,
        targets: Optional[_Targets] = None,
        pipeline: Optional[str] = None,
    ) -> _Iterator: ...
    def flow_from_directory(
        self,
        directory: Union[str, PathLike],
        target_size: tuple[int, int],
        color_mode: str,
        classes: Optional[list[str]],
        class_mode: Optional[str],
        batch_size: int,
        shuffle: bool,
        seed: Optional[int],
        save_to_dir: Optional[Union[str, PathLike]],
        save_prefix: str,
        save_format: str,
        follow_links: bool,
        subset: Optional[str],
        interpolation: str,
        keep_aspect_ratio: bool,
        shard: _Shard,
        pipeline: Optional[str] = None,
    ) -> _Iterator: ...
    def flow_from_dataframe(
        self,
        csv: Union[str, PathLike],
        directory: Optional[Union[str, PathLike]],
        x_col: str,
        y_cols: list[str],
        y_col_is_list: bool,
        weight_col: Optional[str],
        target_size: tuple[int, int],
        color_mode: str,
        classes: Optional[list[str]],
        class_mode: Optional[str],
        batch_size: int,
        shuffle: bool,
        seed: Optional[int],
        save_to_dir: Optional[Union[str, PathLike]],
        save_prefix: str,
        save_format: str,
        subset: Optional[str],
        interpolation: str,
        validate_filenames: bool,
        keep_aspect_ratio: bool,
        shard: _Shard,
        mask: Optional[tuple[str, float]] = None,
        pipeline: Optional[str] = None,
    ) -> _Iterator: ...
    def flow_from_coco(
        self,
        images_dir: Union[str, PathLike],
        annotations: Union[str, PathLike],
        target_size: tuple[int, int],
        color_mode: str,
        batch_size: int,
        shuffle: bool,
        seed: Optional[int],
        subset: Optional[str],
        interpolation: str,
        keep_aspect_ratio: bool,
        shard: _Shard,
        targets: _Targets,
        include_crowd: bool,
    ) -> _Iterator: ...
    def fit(self, x: np.ndarray, augment: bool = False, rounds: int = 1, seed: Optional[int] = None) -> None: ...
    def stats(self) -> dict[str, Optional[np.ndarray]]: ...
    def set_stats(
        self,
        mean: Optional[list[float]],
        std: Optional[list[float]],
        zca_whitening_matrix: Optional[np.ndarray],
    ) -> None: ...
    def standardize(self, x: np.ndarray) -> None: ...
    def get_random_transform(self, height: int, width: int, seed: Optional[int] = None) -> str: ...
    def apply_transform(self, x: np.ndarray, params: str) -> np.ndarray: ...

# Kernels of the module-level functions of `augflow.keras.preprocessing.image`.
# (theta, tx, ty, shear, zx, zy)
_Factors = tuple[float, float, float, float, float, float]

def affine_transform(
    x: np.ndarray,
    factors: _Factors,
    fill_mode: str,
    cval: float,
    order: int,
    channels_first: bool,
) -> Optional[np.ndarray]: ...
def channel_shift(x: np.ndarray, intensity: float) -> None: ...
def brightness(x: np.ndarray, factor: float) -> None: ...

# `augflow.pipeline.numpy_input_fn`: one pass over the data.
# (batch_size, num_epochs, shuffle, queue_capacity, num_threads, seed)
_InputSettings = tuple[int, Optional[int], bool, int, int, Optional[int]]
_Columns = Union[np.ndarray, dict[str, np.ndarray]]

class _InputFn:
    def __iter__(self) -> "_InputFn": ...
    def __next__(self) -> Union[_Columns, tuple[_Columns, _Columns]]: ...
    @property
    def num_batches(self) -> Optional[int]: ...
    @property
    def seed(self) -> int: ...

def input_fn(x: _Columns, y: Optional[_Columns], settings: _InputSettings) -> _InputFn: ...

# `augflow.pipeline.numpy_function`: calls `outputs()` (a list of numpy arrays) under the
# `UserFn` contract named `name`, one NumPy dtype name per declared output in `tout`.
def numpy_function(
    outputs: Callable[[], list[np.ndarray]], tout: list[str], stateful: bool, name: str
) -> list[np.ndarray]: ...
