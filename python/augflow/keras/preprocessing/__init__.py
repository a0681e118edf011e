"""``augflow.keras.preprocessing``: see ``augflow.keras.preprocessing.image``."""
