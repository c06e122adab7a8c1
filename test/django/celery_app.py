"""A Celery app configured the Django way, from the generated settings under the CELERY_ namespace."""
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dj_settings")

from celery import Celery  # noqa: E402

app = Celery("naboomtest")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task
def add(x, y):
    return x + y


@app.task
def hang(marker):
    """Runs until its worker is killed; delivered again, it sees its marker and returns."""
    if os.path.exists(marker):
        return "redelivered"
    with open(marker, "w"):
        pass
    while True:
        time.sleep(0.05)
