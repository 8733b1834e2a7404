#!/usr/bin/env python3
"""The web app's own traffic (webtraffic.py), with Django's transactions begun
IMMEDIATE instead of DEFERRED: what Django 5.1 and newer do with
DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}.

Django 3.2, the web app's version, has no such option, so this is a stand-in:
it changes the one statement that option changes, the BEGIN that
transaction.atomic() sends, and runs webtraffic.py unchanged.

    webtraffic-immediate.py WEBAPP_DIR DB MEDIA GOFILE STOPFILE
"""
import os
import runpy
import sys

app = sys.argv[1]
sys.path.insert(0, app)
from django.db.backends.sqlite3 import base  # noqa: E402

base.DatabaseWrapper._start_transaction_under_autocommit = lambda self: self.cursor().execute("BEGIN IMMEDIATE")
sys.argv = [os.path.join(app, "webtraffic.py")] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
