"""A Keras 2.9-style training script, as a Keras user writes it: augmented arrays with a
validation split and ZCA whitening, then a folder of images with `save_to_dir`.
test_training_script.py runs it with its import line changed to augflow's, and nothing else.

Usage: python keras_training.py WORKDIR   (prints one JSON line of what it saw)
"""
import json
import os
import sys

import numpy as np
from PIL import Image

import keras
from keras import layers
from keras.preprocessing.image import ImageDataGenerator

workdir = sys.argv[1]
rng = np.random.default_rng(0)

# In memory: 48 images of two classes, ZCA fitted on them, a quarter kept for validation.
x = rng.integers(0, 256, (48, 12, 12, 3)).astype("uint8")
labels = rng.integers(0, 2, 48)
x[labels == 1, :, :6] //= 4  # class 1 is darker on its left half
y = keras.utils.to_categorical(labels, 2)
datagen = ImageDataGenerator(
    rotation_range=15,
    width_shift_range=0.1,
    height_shift_range=0.1,
    zoom_range=0.1,
    horizontal_flip=True,
    zca_whitening=True,
    rescale=1.0 / 255,
    validation_split=0.25,
)
datagen.fit(x)
train = datagen.flow(x, y, batch_size=8, subset="training")
val = datagen.flow(x, y, batch_size=8, subset="validation")

model = keras.Sequential([
    layers.Input((12, 12, 3)),
    layers.Conv2D(4, 3, activation="relu"),
    layers.GlobalAveragePooling2D(),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train, validation_data=val, epochs=2, verbose=0)

# From a folder: two class sub-folders of PNGs, augmented copies saved for inspection.
folder = os.path.join(workdir, "photos")
for name in ("cats", "dogs"):
    os.makedirs(os.path.join(folder, name))
    for i in range(5):
        pixels = rng.integers(0, 256, (16, 20, 3)).astype("uint8")
        Image.fromarray(pixels).save(os.path.join(folder, name, f"{i}.png"))
saved = os.path.join(workdir, "augmented")
os.makedirs(saved)
folder_gen = ImageDataGenerator(rescale=1.0 / 255, horizontal_flip=True)
flow = folder_gen.flow_from_directory(
    folder,
    target_size=(12, 12),
    batch_size=4,
    class_mode="categorical",
    save_to_dir=saved,
    save_prefix="aug",
    save_format="png",
)
model.fit(flow, epochs=1, verbose=0)

print(json.dumps({
    "train_batches": len(train),
    "val_batches": len(val),
    "losses": history.history["loss"],
    "val_losses": history.history["val_loss"],
    "zca_shape": list(np.shape(datagen.zca_whitening_matrix)),
    "class_indices": flow.class_indices,
    "folder_samples": flow.samples,
    "saved": len([f for f in os.listdir(saved) if f.startswith("aug") and f.endswith(".png")]),
}))
