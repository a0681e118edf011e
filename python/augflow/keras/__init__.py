"""Keras drop-in modules: ``augflow.keras.preprocessing.image`` for ``keras.preprocessing.image``."""
