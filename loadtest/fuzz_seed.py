"""Seeds the fuzzing server (loadtest/fuzz.sh): a brand with a fence and an offer, a user who
consented, and one check-in at the fence. Prints the ids as shell assignments for the hooks."""

import datetime
import json
import os
import urllib.request

BASE = os.environ["FUZZ_BASE"]
BRAND = os.environ["FUZZ_BRAND"]


def call(method, path, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as res:
        return json.load(res)


admin, app = os.environ["FUZZ_ADMIN_KEY"], os.environ["FUZZ_APP_KEY"]
call("POST", "/v1/brands", admin, {"id": BRAND, "name": "FuzzCo"})
fence = call("POST", f"/v1/brands/{BRAND}/geofences", admin, {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [-73.9857, 40.7484]},
    "properties": {"name": "Corner Store", "radius_m": 120, "timezone": "America/New_York",
                   "tags": ["corner-store"], "external_id": "store-1"}})
offer = call("POST", f"/v1/brands/{BRAND}/offers", admin, {
    "name": "Fuzz offer", "title": "Hello", "body": "{{ distance_m }} m away",
    "targeting": {"fences": {"ids": [fence["id"]]}}})
call("PUT", "/v1/users/u-fuzz/consent", app, {"location": True, "personalization": True})
now = datetime.datetime.now(datetime.timezone.utc).isoformat()
answer = call("POST", "/v1/checkins", app, {
    "checkin_id": "fuzz-1", "user_id": "u-fuzz", "lat": 40.7484, "lon": -73.9857,
    "accuracy_m": 10, "recorded_at": now})
delivery = (answer.get("offer") or {}).get("delivery_id", "")
print(f"FUZZ_FENCE_ID={fence['id']}")
print(f"FUZZ_OFFER_ID={offer['id']}")
print("FUZZ_USER=u-fuzz")
print("FUZZ_CHECKIN_ID=fuzz-1")
print(f"FUZZ_DELIVERY_ID={delivery}")
