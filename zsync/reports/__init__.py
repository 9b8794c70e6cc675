"""Reports of a run for CI: a JUnit XML file and GitHub Actions' step summary and annotations.

Each is built from the run manifest (already free of secrets), never from what was printed.
"""
