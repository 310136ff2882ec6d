"""The benchmark's driver, run on the host (``python -m fastdjango_bench``): it starts the bench
project, prepares the requests, drives wrk, measures and reports."""
