"""Keras' ``Iterator`` base class, with what Keras lacks: shards for data-parallel training
and a checkpointable state (torchdata's ``state_dict`` / ``load_state_dict``)."""

import json
import operator
import threading

from ._augment import mix_batch
from ._keras_base import SequenceBase

__all__ = ["Iterator"]


def _integer(name, value):
    """An integer argument (``None`` passes); a ``TypeError`` naming it otherwise."""
    if value is None:
        return None
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"invalid `{name}`: got {value!r} of type {type(value).__name__}; expected an integer"
        ) from None


def _shard(num_shards, shard_index, shard_remainder):
    """The shard arguments of the ``flow*`` methods as the native layer takes them (it
    checks their values)."""
    if not isinstance(shard_remainder, str):
        raise ValueError(
            f"invalid `shard_remainder`: got {shard_remainder!r}; "
            "expected \"pad\", \"drop\" or \"uneven\""
        )
    return (
        _integer("num_shards", num_shards),
        _integer("shard_index", shard_index),
        shard_remainder,
    )


class Iterator(SequenceBase):
    """Base class of augflow's iterators, as Keras' ``Iterator``: a sequence of batches
    (``len``, ``it[i]``, ``on_epoch_end``) that is also an endless Python iterator.

    It derives from ``keras.utils.PyDataset`` when Keras 3 is importable, from
    ``keras.utils.Sequence`` under Keras 2 / ``tf.keras`` 2.x, else from ``object`` (chosen
    when ``augflow`` is imported), so ``model.fit(it)`` treats it as Keras' own iterators.

    Batch ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``: the same seed gives
    identical batches, whatever the thread count or the order batches are asked for. Batches
    are built with the GIL released, so other Python threads run meanwhile.

    Built with ``num_shards=k, shard_index=r``, an iterator serves only shard ``r`` of
    every epoch (see ``ImageDataGenerator.flow``). ``state_dict()`` and
    ``load_state_dict()`` save and resume a run mid-epoch, bit for bit.
    """

    def __init__(self, native, mixer=None):
        super().__init__()  # PyDataset keeps its workers/queue settings (Keras' defaults)
        self._native = native
        self._mixer = mixer  # a pipeline's batch layer (MixUp, CutMix), run on each batch
        self._cursor = 0
        self._lock = threading.Lock()

    def __getstate__(self):
        """By configuration and arrays: the constructor's arguments (with the seed in use),
        the epoch and the position of ``next()``, so a copy in another process serves the
        same batches."""
        args = dict(self._args, seed=self.seed)
        return {"args": args, "epoch": self.epoch, "cursor": self._cursor}

    def __setstate__(self, state):
        type(self).__init__(self, **state["args"])
        self._native.set_epoch(state["epoch"])
        self._cursor = state["cursor"]

    def __len__(self):
        return len(self._native)

    def __getitem__(self, idx):
        """Batch ``idx`` of the current epoch; past the end, ``SequenceIndexError`` (both
        Keras' ``ValueError`` and Python's ``IndexError``)."""
        batch = self._native.get(idx)
        if self._mixer is None:
            return batch
        # The batch layer draws from (seed, epoch, batch position across the shards).
        index = operator.index(idx) * self.num_shards + self.shard_index
        return mix_batch(self._mixer, batch, (self.seed, self.epoch, index))

    def on_epoch_end(self):
        """Moves to the next epoch: its own order and its own random transforms."""
        self._native.on_epoch_end()

    def set_epoch(self, epoch):
        """Moves to the first batch of ``epoch`` (its own order and transforms), as torch's
        ``DistributedSampler.set_epoch``: every process of a data-parallel run calls it
        with the same epoch so that their shards are of the same permutation.

        >>> import numpy as np, augflow
        >>> it = augflow.ImageDataGenerator().flow(np.zeros((8, 4, 4, 1), np.uint8), batch_size=2)
        >>> _ = next(it); it.set_epoch(3)
        >>> (it.epoch, it.state_dict()["position"])
        (3, 0)
        """
        epoch = _integer("epoch", epoch)
        if epoch < 0:
            raise ValueError(f"invalid `epoch`: got {epoch}; expected an integer >= 0")
        with self._lock:
            self._native.set_epoch(epoch)
            self._cursor = 0

    def reset(self):
        """Back to the first batch of epoch 0: the run replays from its start."""
        with self._lock:
            self._native.set_epoch(0)
            self._cursor = 0

    def __iter__(self):
        return self

    def __next__(self):
        """The next batch, endlessly, as Keras' ``next()``: after the last batch of an
        epoch comes the first of the next epoch."""
        with self._lock:
            if self._cursor >= len(self):
                self._native.on_epoch_end()
                self._cursor = 0
            idx = self._cursor
            self._cursor += 1
        return self[idx]

    next = __next__

    def state_dict(self):
        """Where the run stands, as a plain dict that ``json.dumps`` accepts: ``seed``,
        ``epoch``, ``position`` (batches of ``epoch`` consumed through ``next()``),
        ``shard`` and ``config`` (the generator, the options and a fingerprint of the data).
        Store it in a checkpoint (torchdata's ``StatefulDataLoader`` convention).

        ``position`` counts only ``next()``: when batches are asked by index (``it[i]``, as
        Keras' ``fit`` does with a ``Sequence``), the iterator does not know which were
        used; the ``seed`` and ``epoch`` are still exact, so a state saved after
        ``on_epoch_end()`` resumes at the start of the next epoch, and a caller that
        tracks its batch index resumes at it.

        >>> import numpy as np, augflow
        >>> x = np.zeros((8, 4, 4, 1), np.uint8)
        >>> it = augflow.ImageDataGenerator().flow(x, batch_size=2, seed=3)
        >>> _ = next(it)
        >>> s = it.state_dict()
        >>> (s["seed"], s["epoch"], s["position"])
        (3, 0, 1)
        """
        with self._lock:
            return json.loads(self._native.state_json(self._cursor))

    def load_state_dict(self, state):
        """Continues the run ``state`` (a dict made by ``state_dict()``, possibly through
        JSON) describes: the next ``next()`` serves the batch that would have followed,
        bit for bit. The iterator must be built with the same generator, options, shard
        and data shape (its seed is taken from the state); otherwise ``ValueError`` names
        each entry that differs.

        >>> import numpy as np, augflow
        >>> gen = augflow.ImageDataGenerator(rotation_range=10)
        >>> x = np.arange(8 * 16, dtype=np.uint8).reshape(8, 4, 4, 1)
        >>> it = gen.flow(x, batch_size=2)
        >>> _ = next(it); state = it.state_dict(); expected = next(it)
        >>> fresh = gen.flow(x, batch_size=2)
        >>> fresh.load_state_dict(state)
        >>> bool((next(fresh) == expected).all())
        True
        """
        if not isinstance(state, dict):
            raise ValueError(
                f"invalid `state`: got {type(state).__name__}; "
                "expected the dict state_dict() returns"
            )
        try:
            text = json.dumps(state)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"invalid `state`: got a dict that is not JSON data ({err}); "
                "expected the dict state_dict() returns"
            ) from None
        with self._lock:
            self._cursor = self._native.restore_json(text)

    @property
    def n(self):
        """Number of samples served per epoch (the subset's size under a split)."""
        return self._native.n

    @property
    def batch_size(self):
        return self._native.batch_size

    @property
    def shuffle(self):
        return self._native.shuffle

    @property
    def seed(self):
        """The seed in use (drawn from the OS when none was given): pass it to replay."""
        return self._native.seed

    @property
    def epoch(self):
        """The current epoch (0 at first, +1 at each ``on_epoch_end``)."""
        return self._native.epoch

    @property
    def image_shape(self):
        return self._native.image_shape

    @property
    def num_shards(self):
        """Number of shards each epoch is dealt into (1: unsharded).

        >>> import numpy as np, augflow
        >>> it = augflow.ImageDataGenerator().flow(np.zeros((6, 4, 4, 1), np.uint8),
        ...                                        num_shards=3, shard_index=2)
        >>> (it.num_shards, it.shard_index, it.shard_remainder, it.n)  # n: this shard's samples
        (3, 2, 'pad', 2)
        """
        return self._native.shard[0]

    @property
    def shard_index(self):
        """The shard this iterator serves, in ``range(num_shards)``."""
        return self._native.shard[1]

    @property
    def shard_remainder(self):
        """What is done with an epoch's remainder: ``"pad"``, ``"drop"`` or ``"uneven"``."""
        return self._native.shard[2]

    def batch_indices(self, idx):
        """The sample indices of batch ``idx`` of the current epoch."""
        return self._native.batch_indices(idx)

    def batch_padding(self, idx):
        """How many of the last samples of batch ``idx`` are padding: with
        ``shard_remainder="pad"``, repeats of samples another shard serves this epoch, there
        so every shard has as many batches. Drop them where exact counts matter
        (evaluation): ``x[: len(x) - it.batch_padding(i)]``.

        >>> import numpy as np, augflow
        >>> x = np.zeros((5, 4, 4, 1), np.uint8)  # 5 samples in 2 shards: one is repeated
        >>> it = augflow.ImageDataGenerator().flow(x, batch_size=2, num_shards=2, shard_index=1)
        >>> (len(it), [it.batch_padding(i) for i in range(len(it))])
        (2, [0, 1])
        """
        return self._native.batch_padding(idx)
