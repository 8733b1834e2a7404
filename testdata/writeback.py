#!/usr/bin/env python3
"""A view of the web app that writes a deleted row back, through its own ORM.

usage: writeback.py SLUG READY GO [--atomic]

A guest confirms: the view reads the Submission SLUG, then sets it pending
and saves it. The cleanup deletes the row in between. Django's save() of an
instance read before the deletion runs an UPDATE, which matches nothing, and
then INSERTs the whole row, file name included.

The script reads the row (inside transaction.atomic() with --atomic, else in
autocommit, Django's default), creates READY, waits for GO to exist (the test
creates it once it has seen the row gone), saves, and prints what save() did.
The database and MEDIA_ROOT come from the web app's settings: WEBAPP_DB and
WEBAPP_MEDIA, or WEBAPP_PG with libpq's PG* variables (testdata/webapp).
"""
import contextlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "webapp"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printdesk.settings")
import django  # noqa: E402

django.setup()
from django.db import transaction  # noqa: E402
from apps.submissions.models import Submission  # noqa: E402

slug, ready, go = sys.argv[1:4]
atomic = "--atomic" in sys.argv[4:]
block = transaction.atomic() if atomic else contextlib.nullcontext()
with block:
    s = Submission.objects.get(slug=slug)
    open(ready, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            sys.exit("writeback.py: GO never came")
        time.sleep(0.005)
    s.status = Submission.Status.PENDING
    s.save()
    print(f"saved {s.slug} {s.stl_file.name} exists-again={Submission.objects.filter(slug=slug).exists()}")
