"""Many students: class grading, the local worker pool, the Dask runner."""
