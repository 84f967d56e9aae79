#!/usr/bin/env python3
"""Peer of `jdrl-bench manifest-merge`: the plainest fold of one SQLite file into another, with Python's
sqlite3 module. ATTACH the shard and INSERT ... SELECT every row of the named tables into main in one
transaction, with the shard's ids and no matching, checks or conflict report. The lower bound of a merge.
Prints {"seconds": S, "rows": N}."""
import json
import sqlite3
import sys
import time

main_path, shard_path, tables = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
db = sqlite3.connect(main_path, isolation_level=None)
started = time.perf_counter()
db.execute("ATTACH DATABASE ? AS shard", (shard_path,))
db.execute("BEGIN")
rows = 0
for table in tables:
    rows += db.execute(f"INSERT INTO main.{table} SELECT * FROM shard.{table}").rowcount
db.execute("COMMIT")
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": rows}))
