"""Similarity between the submissions of a class: a hint for the instructor, never a score.

- `code`: copydetect's winnowed fingerprints of each submission's code (the exercise's
  starter discounted as boilerplate), pair scores per exercise, matched regions kept;
- `models`: a canonical fingerprint of each verified model (read from the results' check
  details, which the trusted side wrote from the `.keras` archive), and which ones are unusual;
- `report`: `SimilarityReport` (JSON in OUT/similarity.json) and `compute_similarity`;
- `pages`: the class report's section and one side-by-side page per pair.

Nothing here imports TensorFlow or runs student code: it reads files and results.
"""
