"""The test project's Django settings: the module `naboom django settings` wrote, plus what any project has."""
import os

from naboom_redis import *  # noqa: F401,F403  (the generated module; any file name works)
from naboom_redis import CELERY_BROKER_TRANSPORT_OPTIONS as _BROKER_OPTIONS

# Django's own signing key; the channel layer's keys come from SECRET_KEY inside the generated module.
SECRET_KEY = os.environ["SECRET_KEY"].split(",")[0]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.sessions", "channels"]
USE_TZ = True

# The test kills a worker and expects its task again at once, not after twice the hard time limit. kombu
# restores unacked tasks under a Redis mutex (5 minutes by default); a worker killed while it held it would
# block the next worker's restore for that long, so the test's mutex lasts a second.
CELERY_BROKER_TRANSPORT_OPTIONS = {**_BROKER_OPTIONS, "visibility_timeout": 1, "unacked_mutex_expire": 1}
