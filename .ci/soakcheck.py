#!/usr/bin/env python3
"""What the soak checks, at one moment: the rows and the files.

usage: soakcheck.py DB MEDIA JOURNAL
Prints: rows live_without_file files orphans listed
  live_without_file: rows that name a file that is not there (a lost upload);
  orphans: files that no row names and that the journal does not list.
The rows are read first, then the files: a file that the web app writes
meanwhile may look like an orphan for this one moment, never the other
way round.
"""
import ast
import os
import sqlite3
import sys

db, media, journal = sys.argv[1:4]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
rows = [r[0] for r in con.execute("SELECT stl_file FROM submissions_submission")]
con.close()
named = {os.path.normpath(f) for f in rows if f}
missing = sum(1 for f in named if not os.path.exists(os.path.join(media, f)))

listed = set()
try:
    with open(journal) as j:
        for line in j:
            if line.startswith("file "):
                quoted = line[5:].rstrip("\n").rsplit(" ", 1)[0]  # the path, before its identity
                listed.add(os.path.normpath(ast.literal_eval(quoted)))
except FileNotFoundError:
    pass

files = set()
for root, _, names in os.walk(media):
    for n in names:
        files.add(os.path.relpath(os.path.join(root, n), media))
orphans = [f for f in files if f not in named and f not in listed]
print(len(rows), missing, len(files), len(orphans), len(listed))
