"""``flow_from_coco``: the images of a COCO detection file, each batch carrying its images'
boxes moved through their draws (augflow's ``flow_from_coco``)."""

import os

from ._iterator import Iterator, _integer, _shard
from ._targets import _number
from .image import _target_size

__all__ = ["CocoIterator"]


class CocoIterator(Iterator):
    """Batches of augmented images listed in a COCO annotation file, as ``(x, targets)``
    where ``targets`` holds ``"bboxes"`` (per image, a ``(k, 4)`` float32 array in
    ``bbox_format``), ``"bbox_labels"`` (their class indices: categories sorted by id,
    ``category_ids[label]`` is the COCO id and ``class_names[label]`` its name), and the padded ``"bboxes_padded"``,
    ``"bbox_labels_padded"``, ``"bbox_counts"``.

    Each box (``[x, y, width, height]`` in the file's pixels) is clipped to its image,
    scaled with the image to ``target_size``, moved through the image's draw, and dropped
    below ``min_area`` pixels or ``min_visibility`` of its area. Images without annotations
    have no boxes; crowd annotations are skipped unless ``include_crowd=True``. A missing
    image, bad JSON, or an annotation with an unknown image or category or a bad ``bbox``
    raises ``ValueError`` naming it.
    """

    def __init__(
        self,
        images_dir,
        annotations,
        image_data_generator,
        target_size=(256, 256),
        color_mode="rgb",
        batch_size=32,
        shuffle=True,
        seed=None,
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
        *,
        bbox_format="pascal_voc",
        min_area=0.0,
        min_visibility=0.0,
        max_bboxes=None,
        include_crowd=False,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        height, width = _target_size(target_size)
        targets = dict(
            masks=None,
            mask_value=0.0,
            bboxes=None,
            bbox_labels=None,
            bbox_format=bbox_format,
            min_area=_number("min_area", min_area),
            min_visibility=_number("min_visibility", min_visibility),
            max_bboxes=_integer("max_bboxes", max_bboxes),
            keypoints=None,
            keypoint_labels=None,
            remove_invisible=True,
        )
        gen = image_data_generator
        native = gen._native.flow_from_coco(
            os.fspath(images_dir),
            os.fspath(annotations),
            (height, width),
            color_mode,
            _integer("batch_size", batch_size),
            bool(shuffle),
            _integer("seed", seed),
            subset,
            interpolation,
            bool(keep_aspect_ratio),
            _shard(num_shards, shard_index, shard_remainder),
            targets,
            bool(include_crowd),
        )
        super().__init__(native)
        self._args = args
        info = native.files_info()
        self.images_dir, self.annotations = images_dir, annotations
        self.image_data_generator = gen
        self.target_size = (height, width)
        self.color_mode = color_mode
        self.data_format = gen.data_format
        self.dtype = gen.dtype
        self.filenames = info["filenames"]
        self._filepaths = info["filepaths"]
        self.class_names = info["class_names"]
        self.category_ids = info["category_ids"]
        self.num_classes = len(self.class_names)
        self.samples = len(self.filenames)

    @property
    def filepaths(self):
        """Full paths of the images, in the order of ``filenames``."""
        return self._filepaths
