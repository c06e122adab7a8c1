"""The original Django services against Naboom's Redis: django-redis on all three caches, cache sessions and
channels_redis (with encryption). Prints one JSON line; exits non-zero on the first failed expectation.

Expects Naboom's values under "from-naboom" in every cache and leaves Django's under "from-django".
"""
import asyncio
import json
import sys

import django

django.setup()

import redis  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends.cache import SessionStore  # noqa: E402
from django.core.cache import caches  # noqa: E402

done = []


def expect(name, cond):
    if not cond:
        print(json.dumps({"ok": False, "failed": name, "done": done}))
        sys.exit(1)
    done.append(name)


def cache_ops(alias):
    c = caches[alias]
    expect(f"{alias}: reads Naboom's JSON value", c.get("from-naboom") == {"source": "naboom", "cache": alias})
    c.set("from-django", {"source": "django", "cache": alias})
    c.set("k", {"a": [1, "x"]})
    expect(f"{alias}: get/set", c.get("k") == {"a": [1, "x"]})
    expect(f"{alias}: ttl", 0 < c.ttl("k") <= settings.CACHES[alias]["TIMEOUT"])
    expect(f"{alias}: pttl", 0 < c.pttl("k") <= settings.CACHES[alias]["TIMEOUT"] * 1000)
    expect(f"{alias}: has_key", c.has_key("k") and not c.has_key("missing"))
    expect(f"{alias}: add", c.add("added", 1) is True and c.add("added", 2) is False and c.get("added") == 1)
    expect(f"{alias}: get_or_set", c.get_or_set("gos", lambda: "made") == "made" and c.get_or_set("gos", "other") == "made")
    c.set("n", 5)
    expect(f"{alias}: incr/decr", c.incr("n") == 6 and c.decr("n", 2) == 4 and c.get("n") == 4)
    c.set_many({"m1": 1, "m2": {"b": 2}})
    expect(f"{alias}: set_many/get_many", c.get_many(["m1", "m2", "missing"]) == {"m1": 1, "m2": {"b": 2}})
    expect(f"{alias}: touch", c.touch("k", 100) and 0 < c.ttl("k") <= 100)
    expect(f"{alias}: touch(None) persists", c.touch("k", None) and c.ttl("k") is None)
    expect(f"{alias}: expire/persist", c.expire("k", 50) and 0 < c.ttl("k") <= 50 and c.persist("k") and c.ttl("k") is None)
    with c.lock("lk", timeout=5) as held:
        expect(f"{alias}: lock held", held)
        held.extend(5)
    expect(f"{alias}: lock released", c.get("lk") is None)
    c.delete_many(["m1", "m2", "added", "gos", "n"])
    expect(f"{alias}: delete/delete_many", c.delete("k") and c.get("k") is None and c.get("m1") is None)


def sessions():
    s = SessionStore()
    s["user"] = "alice"
    s.save()
    key = s.session_key
    expect("sessions: load", SessionStore(session_key=key)["user"] == "alice")
    expect("sessions: exists", s.exists(key))
    s.cycle_key()
    expect("sessions: cycle_key", s.session_key != key and not s.exists(key) and SessionStore(session_key=s.session_key)["user"] == "alice")
    s.delete()
    expect("sessions: delete", not s.exists(s.session_key or key))


async def channel_layer():
    layer = get_channel_layer()
    cfg = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    raw = redis.asyncio.Redis.from_url(cfg["hosts"][0])
    ch = await layer.new_channel()
    await layer.send(ch, {"type": "t.msg", "text": "plaintext-marker-1"})
    stored = await raw.zrange(cfg["prefix"] + layer.non_local_name(ch), 0, -1)
    expect("channels: stored encrypted", len(stored) == 1 and b"plaintext-marker" not in stored[0])
    await layer.send(ch, {"type": "t.msg", "text": "2"})
    first = await layer.receive(ch)
    second = await layer.receive(ch)
    await layer.send(ch, {"type": "t.msg", "text": "3"})
    third = await layer.receive(ch)
    # A refused ZPOPMIN (silent, in a detached task) would hand "plaintext-marker-1" out a second time.
    expect("channels: send/receive in order, once", [first["text"], second["text"], third["text"]] == ["plaintext-marker-1", "2", "3"])
    await layer.send("plain.channel", {"type": "t.msg", "text": "general"})
    expect("channels: general channel", (await layer.receive("plain.channel"))["text"] == "general")
    await layer.group_add("room", ch)
    await layer.group_send("room", {"type": "t.msg", "text": "to the group"})
    expect("channels: group_send", (await layer.receive(ch))["text"] == "to the group")
    await layer.group_discard("room", ch)
    members = await raw.zrange(layer._group_key("room"), 0, -1)
    expect("channels: group_discard", ch.encode() not in members)
    await raw.close()
    await layer.close_pools()


for alias in ("default", "sessions", "realtime"):
    cache_ops(alias)
sessions()
asyncio.run(channel_layer())
print(json.dumps({"ok": True, "done": done}))
