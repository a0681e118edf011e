"""Exceptions raised by augflow besides Python's built-in ones."""


class SequenceIndexError(IndexError, ValueError):
    """A batch index past the end of an iterator.

    Keras raises ``ValueError("Asked to retrieve element {idx}, but the Sequence has length
    {length}")``; Python's iteration protocol expects an ``IndexError``. This class is both,
    so code written for either keeps working.
    """
