"""The exercise pack and its data: course and exercises, datasets, metrics."""
