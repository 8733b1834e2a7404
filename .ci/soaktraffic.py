#!/usr/bin/env python3
"""The web app at its worst for a cleanup, through Django's ORM, until STOP exists.

usage: soaktraffic.py DB MEDIA STOP WORKER

Each loop is one of:
  upload:   a new guest uploads a file under one of a few common names
            (model.stl, part.stl, ...): Django reuses a name as soon as
            the file that had it is gone;
  confirm:  a slow view: it reads a guest's row, waits up to 3 s (a slow
            request), then sets it pending and saves it. If the cleanup
            deleted the row meanwhile, save() writes it back, file name
            included;
  reject:   an operator rejects a pending submission (status rejected,
            closed_at now): stale at once with --ttl-hours 0.
Prints, at the end: loops uploads confirms writebacks rejects errors.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "webapp"))
db, media, stop, worker = sys.argv[1:5]
os.environ["WEBAPP_DB"] = os.path.abspath(db)
os.environ["WEBAPP_MEDIA"] = os.path.abspath(media)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printdesk.settings")
import django  # noqa: E402

django.setup()
from django.core.files.base import ContentFile  # noqa: E402
from django.db import OperationalError, connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from apps.submissions.models import Submission  # noqa: E402

with connection.cursor() as c:  # as a deployment would: wait for the lock
    c.execute("PRAGMA busy_timeout = 5000")

rng = random.Random(int(worker))
names = ["model.stl", "part.stl", "bracket.stl", "gear.stl", "case.stl"]
counts = dict(loops=0, uploads=0, confirms=0, writebacks=0, rejects=0, errors=0)
n = 0
while not os.path.exists(stop):
    n += 1
    counts["loops"] += 1
    r = rng.random()
    try:
        if r < 0.5:
            s = Submission(slug=f"soak-{worker}-{n}", status="identifying", email="g@example.org")
            s.stl_file.save(rng.choice(names), ContentFile(f"solid {worker}-{n}\nendsolid\n".encode()), save=False)
            s.save()
            counts["uploads"] += 1
        elif r < 0.85:
            guest = Submission.objects.filter(status="identifying").order_by("?").first()
            if guest is not None:
                time.sleep(rng.random() * 3)
                existed = Submission.objects.filter(pk=guest.pk).exists()
                guest.status = "pending"
                guest.save()
                counts["confirms"] += 1
                counts["writebacks"] += not existed
        else:
            p = Submission.objects.filter(status="pending").order_by("?").first()
            if p is not None:
                p.status, p.closed_at = "rejected", timezone.now()
                p.save()
                counts["rejects"] += 1
    except OperationalError:
        counts["errors"] += 1
    time.sleep(0.02 + rng.random() * 0.05)
print(" ".join(str(counts[k]) for k in ("loops", "uploads", "confirms", "writebacks", "rejects", "errors")))
