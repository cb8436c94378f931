"""The trusted engine: one exercise graded (pytest plugin, the student proxy, verified values, verdicts, results). Never imports TensorFlow or student code."""
