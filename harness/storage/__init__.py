"""Where runs and files are kept: the run store (each run under the code that trained it) and
the liveness of the writers of temporary files."""
