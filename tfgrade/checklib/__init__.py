"""Shared helpers for exercises' checks.py files (trusted side: never imports TensorFlow).

- `wording`     how numbers, shapes and values returned by the sandbox read in feedback.
- `keras_model` reading a described Keras model (ModelSpec) and the slide-model checks
                (layer stack, first/last layer, parameter count, compile call).
- `learning`    exercises that train: the training call, "trains in time", curves for the
                report, held-out predictions and metrics with partial credit.

Every threshold stays in the exercise's `[params]`: these helpers take it as an argument
(or read the `params` table they are given) and never carry a number of their own.
The checks themselves stay plain `test_*` functions in each checks.py.
"""
