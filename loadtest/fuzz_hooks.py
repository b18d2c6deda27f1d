"""Schemathesis hooks for loadtest/fuzz.sh.

Two jobs, both documented in docs/contract.md:

1. Authorization per operation: each request carries the key of the role the operation is
   for (app: consent, check-ins, events; admin: brands and keys; the seeded brand's key: its
   fences and offers, admin for other brands; support: support reads). `ignored_auth` still
   sends requests without a key or with a wrong one.
2. Meaningful positive cases. Schema-valid (positive) cases get the seeded ids where a random
   one would only ever find nothing, and are repaired where the service has a rule JSON Schema
   cannot state (cross-field order, closed polygon rings, template syntax, ids that must exist,
   a clock, a results period's length, webhook URLs that must resolve to public addresses). Negative cases are never touched: they reach the service exactly as generated.
"""

import copy
import datetime
import os

import schemathesis
from schemathesis import GenerationMode

ENV = os.environ
BRAND = ENV["FUZZ_BRAND"]
SEEDED = {
    "fence": ENV.get("FUZZ_FENCE_ID", ""),
    "offer": ENV.get("FUZZ_OFFER_ID", ""),
    "checkin": ENV.get("FUZZ_CHECKIN_ID", ""),
    "delivery": ENV.get("FUZZ_DELIVERY_ID", ""),
}
USER = ENV.get("FUZZ_USER", "u-fuzz")
SQUARE = [[[0.0, 0.0], [0.001, 0.0], [0.001, 0.001], [0.0, 0.001], [0.0, 0.0]]]


def role_for(method: str, path: str) -> str:
    """The role an operation is meant for."""
    if path == "/v1/users/{user_id}/timeline":
        return "SUPPORT"
    if path.startswith(("/v1/users/", "/v1/checkins", "/v1/events")):
        return "APP"
    if path.startswith(("/v1/brands/{brand}",)):
        return "BRAND"
    if path.startswith(("/v1/brands", "/v1/keys")):
        return "ADMIN"
    return "SUPPORT"


@schemathesis.auth(refresh_interval=None)
class KeyPerRole:
    def get(self, case, context):
        op = context.operation
        role = role_for(op.method.upper(), op.path)
        # A brand key sees nothing of other brands (404 by design); brands the run created
        # itself, as stateful scenarios do, are reached with the admin key.
        if role == "BRAND" and (case.path_parameters or {}).get("brand") != BRAND:
            role = "ADMIN"
        return ENV[f"FUZZ_{role}_KEY"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def parse_time(value):
    try:
        return datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def ordered(obj: dict, low: str, high: str, drop_high: bool = False) -> None:
    """`obj[low]` must not exceed `obj[high]`: swap them (or drop `high`)."""
    a, b = obj.get(low), obj.get(high)
    if a is None or b is None:
        return
    if isinstance(a, str):
        a, b = parse_time(a), parse_time(b)
        if a is None or b is None:
            return
    if a > b or (drop_high and a == b):
        if drop_high:
            obj.pop(high)
        else:
            obj[low], obj[high] = obj[high], obj[low]


def plain(text: str) -> str:
    """Template syntax cannot be generated valid at random; braces out, it is plain copy."""
    text = text.replace("{", "").replace("}", "")
    return text if text.strip() else "Hello"


def repair_offer(body: dict) -> None:
    for field in ("title", "body"):
        if isinstance(body.get(field), str):
            body[field] = plain(body[field])
    ordered(body, "valid_from", "valid_until", drop_high=True)
    budget = body.get("budget")
    if isinstance(budget, dict) and budget.get("daily") and budget.get("total"):
        budget["daily"] = min(budget["daily"], budget["total"])
    targeting = body.get("targeting")
    if not isinstance(targeting, dict):
        return
    fences = targeting.get("fences")
    if isinstance(fences, dict):
        # Random ids are never this brand's fences; a tag always names something valid.
        fences["ids"] = []
        fences["tags"] = fences.get("tags") or ["corner-store"]
    weather = targeting.get("weather")
    if isinstance(weather, dict):
        ordered(weather, "min_temp_c", "max_temp_c")
    schedule = targeting.get("schedule")
    if isinstance(schedule, dict):
        for hours in schedule.get("hours") or []:
            if hours["from"] == hours["to"]:
                hours["to"] = "00:00" if hours["from"] == "24:00" else "24:00"
            if hours["from"] == hours["to"]:
                hours["to"] = "12:00"


def repair_feature(feature: dict, keep_external_id: bool = True) -> None:
    geometry, props = feature.get("geometry"), feature.get("properties")
    if not isinstance(geometry, dict) or not isinstance(props, dict):
        return
    if geometry.get("type") == "Point":
        if props.get("radius_m") is None:
            props["radius_m"] = 100
    else:
        props.pop("radius_m", None)
        geometry["coordinates"] = SQUARE if geometry.get("type") == "Polygon" else [SQUARE]
    if not keep_external_id:
        props.pop("external_id", None)


def repair_body(method: str, path: str, body) -> None:
    if not isinstance(body, dict):
        return
    if path.endswith("/offers/backtest"):
        # A backtest's period lies within trace retention and `to` comes after `from`
        # (rules no schema says): the last day always does. Its offer is checked as on create.
        now = datetime.datetime.now(datetime.timezone.utc)
        body["from"] = (now - datetime.timedelta(days=1)).isoformat()
        body["to"] = now.isoformat()
        if isinstance(body.get("offer"), dict):
            repair_offer(body["offer"])
        # A random id is never this brand's offer, and the seeded one may have been retired
        # by an earlier case: the pass backtests new offers (the API tests cover edits).
        body.pop("offer_id", None)
    elif path.startswith("/v1/brands/{brand}/offers"):
        repair_offer(body)
    elif path == "/v1/brands/{brand}/geofences/import":
        for feature in body.get("features") or []:
            repair_feature(feature, keep_external_id=False)
    elif path.startswith("/v1/brands/{brand}/geofences"):
        repair_feature(body)
    elif path == "/v1/keys":
        role = body.get("role")
        if role == "brand":
            body["brand"] = BRAND
            body.pop("app", None)
        else:
            body.pop("brand", None)
            if role != "app":
                body.pop("app", None)
    elif path.startswith("/v1/brands/{brand}/webhooks") and "url" in body:
        # Registration resolves the host and refuses private addresses (SSRF rules); a random
        # URL never passes. A closed port on loopback is allowed by the run's settings.
        body["url"] = "http://127.0.0.1:9/fuzz-hook"
    elif path == "/v1/checkins":
        body["user_id"] = USER
        recorded = parse_time(body.get("recorded_at"))
        now = datetime.datetime.now(datetime.timezone.utc)
        if recorded is not None and (recorded.tzinfo is None or recorded > now):
            body["recorded_at"] = now.isoformat()


def repair_path(method: str, path: str, params: dict) -> None:
    if "brand" in params and path.startswith("/v1/brands/{brand}"):
        params["brand"] = BRAND
    seeded = None
    if path.startswith("/v1/brands/{brand}/geofences/"):
        seeded = SEEDED["fence"]
    elif path.startswith("/v1/brands/{brand}/offers/"):
        seeded = SEEDED["offer"]
    # Deleting the seeded resources would leave later cases nothing real to find.
    if seeded and "id" in params and method != "DELETE":
        params["id"] = seeded
    if "checkin_id" in params and SEEDED["checkin"]:
        params["checkin_id"] = SEEDED["checkin"]
    if "delivery_id" in params and SEEDED["delivery"]:
        params["delivery_id"] = SEEDED["delivery"]


def repair_query(path: str, query: dict) -> None:
    # Cursors are opaque: only ones the service issued mean anything.
    query.pop("cursor", None)
    ordered(query, "from", "to")
    if path.endswith("/results"):
        results_period(query)
    if path == "/v1/decisions/{checkin_id}" and "app" in query:
        query["app"] = "default"  # the app of the seeded check-in


def results_period(query: dict) -> None:
    """An offer's results span at most 366 days and `to` (default: today) is not before
    `from`: a longer period starts 365 days before its end; a lone `from` after today gets
    itself as `to`."""
    day = lambda v: datetime.date.fromisoformat(v) if isinstance(v, str) else None
    try:
        start, end = day(query.get("from")), day(query.get("to"))
    except ValueError:
        return
    end = end or datetime.datetime.now(datetime.timezone.utc).date()
    if start is not None and start > end:
        # Only `from`, after today: `to` (today) would come before it.
        query["to"] = start.isoformat()
    elif start is not None and (end - start).days > 365:
        query["from"] = (end - datetime.timedelta(days=365)).isoformat()


@schemathesis.hook
def map_case(context, case):
    if not is_positive(case):
        return case
    method, path = case.operation.method.upper(), case.operation.path
    # Stateful scenarios follow links from what they created; their ids stay theirs.
    linked = case.meta.phase.name == "stateful"
    # Repairs work on copies, assigned back only when they changed something: generated
    # containers can be shared between cases, and Schemathesis revalidates what a hook assigns
    # in its wire form (where a percent-encoded user id is longer than the one sent).
    if case.path_parameters and not linked:
        params = dict(case.path_parameters)
        repair_path(method, path, params)
        if params != case.path_parameters:
            case.path_parameters = params
    if case.query:
        query = dict(case.query)
        repair_query(path, query)
        if query != case.query:
            case.query = query
    if isinstance(case.body, dict):
        body = copy.deepcopy(case.body)
        repair_body(method, path, body)
        if body != case.body:
            case.body = body
    return case
