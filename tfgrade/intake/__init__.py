"""Submissions in: class folders and LMS downloads, file matching, notebooks."""
