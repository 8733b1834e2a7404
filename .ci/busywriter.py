#!/usr/bin/env python3
"""A stand-in for the web app writing during a cleanup.

Python's sqlite3 module, as Django uses it, with Django's default 5 s
timeout: short BEGIN IMMEDIATE transactions that insert one submission,
in a loop with a short random think time, until the stop file appears.
It then prints how long each transaction waited for the write lock, and
how long each took in all (lock wait, insert and commit), in ms.

    busywriter.py DB STOPFILE
"""
import json
import os
import random
import sqlite3
import sys
import time


def main():
    db, stopfile = sys.argv[1], sys.argv[2]
    conn = sqlite3.connect(db, timeout=5, isolation_level=None)
    waits, totals, errors = [], [], 0
    i = 0
    while not os.path.exists(stopfile):
        i += 1
        t0 = time.monotonic()
        try:
            conn.execute("BEGIN IMMEDIATE")
            t1 = time.monotonic()
            conn.execute(
                "INSERT INTO submissions_submission (slug, status, email, stl_file, created_at)"
                " VALUES (?, 'identifying', 'w@example.org', '', ?)",
                ("writer-%d-%d" % (os.getpid(), i), "2026-11-25 11:59:00"),
            )
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            errors += 1
            continue
        t2 = time.monotonic()
        waits.append((t1 - t0) * 1000)
        totals.append((t2 - t0) * 1000)
        time.sleep(random.uniform(0.001, 0.010))

    def summary(xs):
        xs = sorted(xs)
        if not xs:
            return {}
        return {"n": len(xs), "max": round(xs[-1], 1), "p99": round(xs[int(len(xs) * 0.99) - 1 if len(xs) > 1 else 0], 1),
                "p50": round(xs[len(xs) // 2], 1)}

    print(json.dumps({"lock_wait_ms": summary(waits), "transaction_ms": summary(totals), "errors": errors}))


if __name__ == "__main__":
    main()
