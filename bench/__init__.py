"""pgany's side-by-side benchmark against asyncpg, psycopg 3, pg8000 and pg-purepy.

``python -m bench`` starts a throwaway server, runs every driver in its own
process per workload (:mod:`bench.worker`) and prints a table of medians,
rates and pgany's ratios to its peers. See ``bench/README.md``.
"""
