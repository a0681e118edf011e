"""Keras' ``DataFrameIterator``: augflow's CSV reader fed with a pandas DataFrame's columns."""

import os
import tempfile

from ._iterator import Iterator, _integer, _shard
from ._augment import iterator_pipeline
from ._targets import _number
from .image import _check_same, _target_size

__all__ = ["DataFrameIterator"]


class DataFrameIterator(Iterator):
    """Keras' ``DataFrameIterator``: batches of augmented images listed in a pandas
    DataFrame. The columns used are handed to augflow's CSV reader through a temporary
    file; pandas is imported only by this class."""

    def __init__(
        self,
        dataframe,
        directory,
        image_data_generator,
        x_col="filename",
        y_col="class",
        weight_col=None,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        data_format=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
        dtype=None,
        validate_filenames=True,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        mask_col=None,
        mask_value=0,
        pipeline=None,
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        import pandas as pd  # only here: the rest of augflow does not need pandas

        gen = image_data_generator
        _check_same(gen, data_format, dtype)
        if not isinstance(dataframe, pd.DataFrame):
            raise ValueError(
                f"invalid `dataframe`: got {type(dataframe).__name__}; expected a pandas DataFrame"
            )
        if class_mode == "multi_output":
            raise NotImplementedError(
                "class_mode=\"multi_output\" is not supported by augflow's Python package yet"
            )
        y_is_list = isinstance(y_col, (list, tuple))
        y_cols = list(y_col) if y_is_list else [y_col]
        columns = [x_col]
        if class_mode not in (None, "input"):
            columns += y_cols
        if weight_col is not None:
            columns.append(weight_col)
        if mask_col is not None:
            columns.append(mask_col)
        missing = [c for c in columns if c not in dataframe.columns]
        if missing:
            named = {mask_col: "mask_col", weight_col: "weight_col", x_col: "x_col"}
            name = named.get(missing[0], "y_col")
            raise ValueError(
                f"invalid `{name}`: got {missing[0]!r}; expected a column of the dataframe "
                f"({list(dataframe.columns)})"
            )
        height, width = _target_size(target_size)
        per_sample, mixer = iterator_pipeline(pipeline, gen.dtype)
        fd, csv = tempfile.mkstemp(suffix=".csv", prefix="augflow-dataframe-")
        try:
            with os.fdopen(fd, "w", newline="") as f:
                dataframe[list(dict.fromkeys(columns))].to_csv(f, index=False)
            native = gen._native.flow_from_dataframe(
                csv,
                None if directory is None else os.fspath(directory),
                x_col,
                y_cols,
                y_is_list,
                weight_col,
                (height, width),
                color_mode,
                None if classes is None else list(classes),
                class_mode,
                _integer("batch_size", batch_size),
                bool(shuffle),
                _integer("seed", seed),
                None if save_to_dir is None else os.fspath(save_to_dir),
                save_prefix,
                save_format,
                subset,
                interpolation,
                bool(validate_filenames),
                bool(keep_aspect_ratio),
                _shard(num_shards, shard_index, shard_remainder),
                None if mask_col is None else (mask_col, _number("mask_value", mask_value)),
                per_sample,
            )
        finally:
            os.unlink(csv)
        super().__init__(native, mixer)
        self._args = args
        info = native.files_info()
        self.directory = directory
        self.image_data_generator = gen
        self.x_col, self.y_col, self.weight_col = x_col, y_col, weight_col
        self.target_size = (height, width)
        self.color_mode = color_mode
        self.data_format = gen.data_format
        self.dtype = gen.dtype
        self.class_mode = class_mode
        self.filenames = info["filenames"]
        self._filepaths = info["filepaths"]
        self.classes = info["classes"]
        self.class_indices = info["class_indices"]
        self.num_classes = len(self.class_indices)
        self.samples = len(self.filenames)

    @property
    def filepaths(self):
        """Full paths of the images, in the order of ``filenames``."""
        return self._filepaths

    @property
    def labels(self):
        """The class indices of each row (Keras: ``classes``)."""
        return self.classes
