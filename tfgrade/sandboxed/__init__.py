"""Code that runs inside the sandbox, next to the student's code (imports TensorFlow).

Nothing here is trusted by the grader: whatever these modules send back is validated on the
trusted side as untrusted data.
"""
