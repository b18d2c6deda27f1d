"""The verdict of loadtest/fuzz.sh from Schemathesis's NDJSON event stream.

Schemathesis fails the run on check failures; this also fails it when an operation of the
document was skipped, got fewer than MIN_CASES cases (operations that take no input: fewer
than one), or when generation itself errored.

    python fuzz_verdict.py EVENTS.ndjson OPENAPI_URL MIN_CASES
"""

import collections
import json
import sys
import urllib.request

events_path, openapi_url, min_cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
with urllib.request.urlopen(openapi_url) as res:
    doc = json.load(res)
operations = {}  # label -> whether it takes any input worth varying
for path, item in doc["paths"].items():
    for method in ("get", "put", "post", "delete"):
        if method in item:
            op = item[method]
            operations[f"{method.upper()} {path}"] = bool(op.get("parameters") or op.get("requestBody"))

cases = collections.Counter()
failures = collections.Counter()
problems = []
for line in open(events_path, encoding="utf-8"):
    (kind, event), = json.loads(line).items()
    if kind == "NonFatalError":
        problems.append(f"error in {event.get('label')}: {event['value']['message']}")
    if kind != "ScenarioFinished" or event["phase"] not in ("coverage", "fuzzing"):
        continue
    label = event["recorder"]["label"]
    # The run's time budget ending a phase early is not a skipped operation: the case count
    # below still holds every operation to MIN_CASES.
    timed_out = event["status"] == "skip" and "Time limit" in str(event.get("skip_reason"))
    if event["status"] in ("skip", "error") and not timed_out:
        problems.append(f"{label}: {event['phase']} {event['status']} ({event.get('skip_reason')})")
    # A scenario that generated nothing (skipped before any case) has no "cases" entry.
    cases[label] += len(event["recorder"].get("cases") or ())
    failures[label] += event["status"] == "failure"

for op, takes_input in sorted(operations.items()):
    # `GET /healthz` and the like take nothing: a handful of requests is all there is to send.
    needed = min_cases if takes_input else 1
    if cases[op] < needed:
        problems.append(f"{op}: {cases[op]} cases, fewer than {needed}")
print(f"fuzz verdict: {len(operations)} operations, {sum(cases.values())} cases "
      f"(fewest {min(cases[op] for op in operations)}), "
      f"{sum(failures.values())} failing scenarios")
for p in problems:
    print(f"  {p}")
sys.exit(1 if problems else 0)
