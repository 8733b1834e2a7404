#!/usr/bin/env python3
"""A stand-in for the web app's own `python manage.py cleanup_stale`.

Django is not installed here (no PyPI), so this does with Python's sqlite3
what the command does through the ORM. Two shapes:

  per-object (default): Django's usual loop, each delete in autocommit,
      one transaction per row:
          for s in stale.iterator():
              s.stl_file.delete(save=False)
              s.delete()
  --bulk: a generous lower bound: delete every file, then one
      queryset.delete() (one transaction, ids in chunks of 999).

    seedcommand.py [--bulk] DB MEDIA_ROOT CUTOFF   (cutoff 'YYYY-MM-DD HH:MM:SS')
"""
import os
import sqlite3
import sys

STALE = ("SELECT id, stl_file FROM submissions_submission WHERE"
         " (status = 'identifying' AND created_at < ?) OR (status = 'rejected' AND closed_at < ?)"
         " ORDER BY id")


def remove(media, f):
    if f:
        try:
            os.remove(os.path.join(media, f))
        except FileNotFoundError:
            pass


def main():
    args = sys.argv[1:]
    bulk = args[0] == "--bulk"
    if bulk:
        args = args[1:]
    db, media, cutoff = args
    conn = sqlite3.connect(db, timeout=5, isolation_level=None)
    rows = conn.execute(STALE, (cutoff, cutoff)).fetchall()
    if bulk:
        for _, f in rows:
            remove(media, f)
        ids = [r[0] for r in rows]
        conn.execute("BEGIN")
        for i in range(0, len(ids), 999):
            chunk = ids[i:i + 999]
            conn.execute("DELETE FROM submissions_submission WHERE id IN (%s)" % ",".join("?" * len(chunk)), chunk)
        conn.execute("COMMIT")
    else:
        for id_, f in rows:
            remove(media, f)
            conn.execute("DELETE FROM submissions_submission WHERE id = ?", (id_,))
    if rows:
        print("Deleted %d stale submission(s) older than 24 h." % len(rows))


if __name__ == "__main__":
    main()
