"""Many interviews at once: ``verbatim batch`` on local worker processes or a Dask cluster.

- ``task``: the one task function every worker runs (audio bytes in, document out);
- ``backends``: where tasks run: a local process pool, or Dask distributed;
- ``runner``: the client's loop: submit, collect, save once, report, cancel;
- ``cluster``: scheduler addresses, TLS, the privacy guard's one exception, Slurm.

Only the client (this process) opens the study; workers never see SQLite.
"""
