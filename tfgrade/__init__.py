"""tfgrade: a tamper-proof grader for the TensorFlow 2 course."""

__version__ = "0.1.0"
