#!/usr/bin/env python3
"""roomlog's benchmark driver (bench/README.md): starts the servers pinned to core 0, drives
wrk pinned to core 1, and records medians with min-max, each read figure as a ratio to the
ceiling server measured in the same run. Only 127.0.0.1 is ever contacted; every load is
bounded in time.

  run.py read    --db URL --label NAME [--cases a,b] [--runs 3] [--duration 10]
  run.py write   --label NAME [--runs 3] [--duration 10]
  run.py memory  --db URL --label NAME      (peak RSS under the read cases, start-to-ready)
  run.py forward --label NAME [--runs 3] [--burst 2000] [--app-delay 5]
                                            (a callback burst forwarded to a 5 ms application)
  run.py prism   --label NAME               (Stoplight Prism mocking the OpenAPI document)
  run.py table   --label A,B                 (prints the README tables from results/)
"""
import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
ROOMLOG = os.path.join(TARGET, "release", "roomlog")
CEILING = os.path.join(TARGET, "release", "roomlog-bench-ceiling")
LOADER = os.path.join(TARGET, "release", "roomlog-bench-loader")
RESULTS = os.path.join(HERE, "results")
WORK = os.environ.get("BENCH_WORK", "/tmp/roomlog-bench")

ACCOUNT_SID = "ACbeac0000000000000000000000000001"
AUTH_TOKEN = "bench0auth0token0000000000000001"
AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
SERVER_PORT, CEILING_PORT, PRISM_PORT, APP_PORT = 39080, 39081, 39082, 39083
SERVER = f"http://127.0.0.1:{SERVER_PORT}"
END_OF_HISTORY = "2026-01-01T00:00:00Z"
THIRTY_DAYS_BEFORE_END = "2025-12-02T00:00:00Z"

SERVER_CORE, LOAD_CORE = "0", "1"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


QUIET = {"limit": 0.5, "patience": 300}


def wait_quiet():
    """Waits (bounded) for the 1-minute load average to fall below the limit; returns it."""
    limit = QUIET["limit"]
    deadline = time.time() + QUIET["patience"]
    while True:
        load = float(open("/proc/loadavg").read().split()[0])
        if load <= limit or time.time() > deadline:
            if load > limit:
                log(f"warning: load average {load} > {limit}; figures may be noisy")
            return load
        time.sleep(5)


def get(url, auth=True, timeout=120):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + AUTH)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def wait_ready(url, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if get(url, timeout=2)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit(f"{url} not ready within {timeout} s")


class Server:
    """A server process pinned to the server core (or another), stopped on exit."""

    def __init__(self, argv, ready_url, env=None, core=SERVER_CORE):
        self.process = subprocess.Popen(
            ["taskset", "-c", core] + argv,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True)
        self.started = time.perf_counter()
        wait_ready(ready_url, self.process)
        self.ready_after = time.perf_counter() - self.started

    def peak_rss_kb(self):
        for line in open(f"/proc/{self.process.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def roomlog(db, extra=(), env=None):
    argv = [ROOMLOG, "serve", "--listen", f"127.0.0.1:{SERVER_PORT}", "--database-url", db,
            "--default-window", "0", "--public-url", SERVER] + list(extra)
    return Server(argv, f"{SERVER}/readyz",
                  env={"ROOMLOG_ACCOUNT_SID": ACCOUNT_SID, "ROOMLOG_AUTH_TOKEN": AUTH_TOKEN,
                       "RUST_LOG": "warn", **(env or {})})


def wrk(url, script, args, duration, connections):
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
            "--timeout", "10s", "-s", os.path.join(HERE, "wrk", script), url, "--"] + list(args)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise SystemExit(f"wrk printed no report: {out.stdout}\n{out.stderr}")
    result = json.loads(lines[-1])
    if result["non2xx"] or result["socket_errors"]:
        raise SystemExit(f"wrk saw errors against {url}: {result}\n{out.stdout}")
    return result


def burst(url, signed, connections, limit=120):
    """Sends every pre-signed callback of `signed` once (wrk/burst.lua) and returns its line:
    the wall-clock times of the first callback sent and the last one answered."""
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{limit}s", "--timeout", "10s",
            "-s", os.path.join(HERE, "wrk", "burst.lua"), url, "--", signed]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in process.stdout:
            if line.startswith("{"):
                result = json.loads(line)
                if "error" in result:
                    raise SystemExit(f"the burst was refused: {result}")
                return result
        raise SystemExit("wrk ended before the burst was answered")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# ---- read cases -------------------------------------------------------------------------

def path_of(url):
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def rooms_page(query):
    status, body = get(f"{SERVER}/v1/Video/Rooms?{query}" if query else f"{SERVER}/v1/Video/Rooms")
    assert status == 200
    return json.loads(body)


def depth_url(depth, page_size=50, query=""):
    """The URL of the page that starts `depth` rooms in, reached by PageToken (the next page
    of the page before it, itself fetched once by offset)."""
    page = depth // page_size - 1
    prefix = f"{query}&" if query else ""
    previous = rooms_page(f"{prefix}PageSize={page_size}&Page={page}")
    return path_of(previous["meta"]["next_page_url"])


def read_cases(rooms):
    """Case name -> list of paths. The mixed list varies filters, names, depths and sizes."""
    q = urllib.parse.quote
    cases = {
        "first": ["/v1/Video/Rooms"],
        "depth": [depth_url(min(rooms, 1_000_000) - 50)],
        "filtered": [f"/v1/Video/Rooms?RoomType=group&Codec=H264&CreatedAfter={q(THIRTY_DAYS_BEFORE_END)}"],
        "rare": ["/v1/Video/Rooms?Codec=VP9"],
        "rare_type": ["/v1/Video/Rooms?RoomType=group&Codec=VP9"],
        "name": ["/v1/Video/Rooms?RoomName=standup-0042"],
        "page1000": ["/v1/Video/Rooms?PageSize=1000"],
    }
    rng = random.Random(5)
    mixed = []
    types = ["go", "peer_to_peer", "group", "group_small"]
    codecs = ["VP8", "H264", "VP9", "opus"]
    for i in range(40):
        query = []
        if rng.random() < 0.5:
            query.append("RoomType=" + rng.choice(types))
        if rng.random() < 0.4:
            query.append("Codec=" + rng.choice(codecs))
        if rng.random() < 0.2:
            query.append(f"RoomName=standup-{rng.randrange(2000):04d}")
        if rng.random() < 0.4:
            days = rng.randrange(1, 89)
            query.append("CreatedAfter=" + q(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1767225600 - days * 86400))))
        if rng.random() < 0.2:
            query.append("PageSize=" + str(rng.choice([10, 20, 100, 200])))
        mixed.append("/v1/Video/Rooms" + ("?" + "&".join(query) if query else ""))
    # Later pages by token, at several depths and under several filters.
    for query in ["", "RoomType=group", "Codec=H264", "RoomType=go&Codec=VP8"]:
        page = rooms_page(query)
        for _ in range(5):
            if not page["meta"]["next_page_url"]:
                break
            mixed.append(path_of(page["meta"]["next_page_url"]))
            page = json.loads(get(page["meta"]["next_page_url"])[1])
    for depth in [1_000, 20_000, 200_000, 600_000, 990_000]:
        if depth < rooms:
            mixed.append(depth_url(depth))
    # Single rooms and their participants.
    listed = rooms_page("PageSize=20&Page=3")["rooms"]
    for room in listed[:10]:
        mixed.append(path_of(room["url"]))
        mixed.append(path_of(room["links"]["participants"]))
    cases["mixed"] = mixed
    return cases


def record(cases, directory):
    """Fetches every path once from roomlog and saves the bytes for the ceiling server."""
    os.makedirs(directory, exist_ok=True)
    index = []
    seen = {}
    for name, paths in cases.items():
        for path in paths:
            if path in seen:
                continue
            status, body = get(SERVER + path)
            assert status == 200, (path, status)
            file = f"{len(seen):04d}.json"
            seen[path] = file
            with open(os.path.join(directory, file), "wb") as out:
                out.write(body)
            index.append(f"{path}\t{file}")
        with open(os.path.join(directory, f"{name}.txt"), "w") as out:
            out.write("\n".join(paths) + "\n")
    with open(os.path.join(directory, "index.tsv"), "w") as out:
        out.write("\n".join(index) + "\n")


def summarise(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def save(label, results):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{label}.json")
    existing = json.load(open(path)) if os.path.exists(path) else {}
    existing.update(results)
    with open(path, "w") as out:
        json.dump(existing, out, indent=1, sort_keys=True)
    log(f"saved {path}")


def run_read(args):
    directory = os.path.join(WORK, f"answers-{args.label}")
    extra = ["--database-pool", str(args.pool)]
    if args.response_cache is not None:
        extra += ["--response-cache", str(args.response_cache)]
    with roomlog(args.db, extra=extra) as server:
        rooms = args.rooms
        log("recording the answers for the ceiling server")
        cases = read_cases(rooms)
        record(cases, directory)
        ceiling = Server([CEILING, f"127.0.0.1:{CEILING_PORT}", directory], f"http://127.0.0.1:{CEILING_PORT}/v1/Video/Rooms")
        try:
            results = {}
            wanted = args.cases.split(",") if args.cases else list(cases)
            for name in wanted:
                listfile = os.path.join(directory, f"{name}.txt")
                runs = []
                for run in range(args.runs):
                    load = wait_quiet()
                    # Warm both, then measure the ceiling and roomlog back to back.
                    wrk(f"http://127.0.0.1:{CEILING_PORT}", "urls.lua", [listfile, AUTH], 2, args.connections)
                    wrk(SERVER, "urls.lua", [listfile, AUTH], 2, args.connections)
                    top = wrk(f"http://127.0.0.1:{CEILING_PORT}", "urls.lua", [listfile, AUTH], args.duration, args.connections)
                    ours = wrk(SERVER, "urls.lua", [listfile, AUTH], args.duration, args.connections)
                    runs.append({"ceiling": top, "roomlog": ours, "ratio": ours["rps"] / top["rps"], "load": load})
                    log(f"{args.label} {name} run {run}: roomlog {ours['rps']:.0f}/s p99 {ours['p99_ms']:.2f} ms, "
                        f"ceiling {top['rps']:.0f}/s, ratio {ours['rps'] / top['rps']:.3f}")
                results[name] = {
                    "ratio": summarise([r["ratio"] for r in runs]),
                    "rps": summarise([r["roomlog"]["rps"] for r in runs]),
                    "p99_ms": summarise([r["roomlog"]["p99_ms"] for r in runs]),
                    "ceiling_rps": summarise([r["ceiling"]["rps"] for r in runs]),
                    "ceiling_p99_ms": summarise([r["ceiling"]["p99_ms"] for r in runs]),
                    "urls": len(cases[name]),
                    "runs": runs,
                }
            results["_peak_rss_kb"] = {"value": server.peak_rss_kb()}
            save(args.label, results)
        finally:
            ceiling.stop()


# ---- memory and start-up ------------------------------------------------------------------

def run_memory(args):
    times = []
    for _ in range(args.runs):
        with roomlog(args.db) as server:
            times.append(server.ready_after * 1000)
    log(f"start to ready: {times}")
    save(args.label, {"_start_to_ready_ms": summarise(times)})


# ---- write cases -------------------------------------------------------------------------

def fresh_sqlite(name):
    """The path of a SQLite database under WORK, with any earlier one removed."""
    db = os.path.join(WORK, name)
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return db


def run_write(args):
    os.makedirs(WORK, exist_ok=True)
    results = {"naive": [], "callbacks": [], "batches": []}
    template = os.path.join(WORK, "batch.json")
    subprocess.run([LOADER, "batch-template", "--out", template], check=True)
    for run in range(args.runs):
        wait_quiet()
        naive_db = fresh_sqlite("naive.db")
        out = subprocess.run(["taskset", "-c", SERVER_CORE, LOADER, "naive", "--database-url", f"sqlite://{naive_db}",
                              "--seconds", str(args.duration)], capture_output=True, text=True, check=True)
        naive = json.loads(out.stdout.strip().splitlines()[-1])
        results["naive"].append(naive["events_per_sec"])

        for case in ["callbacks", "batches"]:
            db = fresh_sqlite(f"write-{case}.db")
            with roomlog(f"sqlite://{db}"):
                if case == "callbacks":
                    signed = os.path.join(WORK, "callbacks.tsv")
                    subprocess.run([LOADER, "callbacks", "--url", f"{SERVER}/v1/Video/Callbacks", "--count",
                                    str(args.callbacks), "--run", str(run), "--out", signed], check=True)
                    result = wrk(f"{SERVER}/v1/Video/Callbacks", "callbacks.lua", [signed], args.duration, 64)
                    results["callbacks"].append(result["rps"])
                else:
                    result = wrk(f"{SERVER}/v1/Video/Events", "batches.lua", [template, AUTH, str(run)],
                                 args.duration, 4)
                    results["batches"].append(result["rps"] * 1000)
                log(f"write run {run} {case}: {result}")
        log(f"write run {run}: naive {naive['events_per_sec']:.0f}/s, callbacks {results['callbacks'][-1]:.0f}/s, "
            f"batches {results['batches'][-1]:.0f} events/s")
    save(args.label, {
        "write_naive_events_per_sec": summarise(results["naive"]),
        "write_callbacks_per_sec": summarise(results["callbacks"]),
        "write_callbacks_ratio": summarise([c / n for c, n in zip(results["callbacks"], results["naive"])]),
        "write_batch_events_per_sec": summarise(results["batches"]),
    })


# ---- forwarding ---------------------------------------------------------------------------

def run_forward(args):
    """A burst of signed callbacks from 64 senders into a fresh SQLite roomlog whose account
    forwards to an application answering in --app-delay ms: the time until the application
    has every callback, against the time roomlog took to accept them (docs/behaviour.md §6)."""
    os.makedirs(WORK, exist_ok=True)
    app_url = f"http://127.0.0.1:{APP_PORT}"
    runs = []
    for run in range(args.runs):
        load = wait_quiet()
        db = fresh_sqlite("forward.db")
        signed = os.path.join(WORK, "burst.tsv")
        subprocess.run([LOADER, "callbacks", "--url", f"{SERVER}/v1/Video/Callbacks", "--count", str(args.burst),
                        "--run", str(run), "--out", signed], check=True)
        with open(signed) as lines:
            count = sum(1 for line in lines if line.strip())
        # The same burst (other rooms) into a roomlog that forwards nothing: what forwarding
        # costs ingest.
        plain_signed = os.path.join(WORK, "burst-plain.tsv")
        subprocess.run([LOADER, "callbacks", "--url", f"{SERVER}/v1/Video/Callbacks", "--count", str(args.burst),
                        "--run", str(run + 100), "--out", plain_signed], check=True)
        with roomlog(f"sqlite://{fresh_sqlite('forward-plain.db')}"):
            plain = burst(f"{SERVER}/v1/Video/Callbacks", plain_signed, 64)
        # The application shares the load tool's core: it sleeps, it hardly computes.
        with Server([CEILING, "app", f"127.0.0.1:{APP_PORT}", str(args.app_delay)], f"{app_url}/stats",
                    core=LOAD_CORE) as _, roomlog(f"sqlite://{db}"):
            subprocess.run([ROOMLOG, "accounts", "update", ACCOUNT_SID, "--forward-to", f"{app_url}/twilio",
                            "--database-url", f"sqlite://{db}"], check=True, stdout=subprocess.DEVNULL)
            accepted = burst(f"{SERVER}/v1/Video/Callbacks", signed, 64)
            deadline = time.time() + 120
            while True:
                stats = json.loads(get(f"{app_url}/stats", auth=False)[1])
                if stats["distinct"] >= count or time.time() > deadline:
                    break
                time.sleep(0.01)
            if stats["distinct"] < count:
                raise SystemExit(f"only {stats['distinct']} of {count} callbacks forwarded within 120 s")
        # Both from the load tool's first callback: to its last answer, and to the
        # application's last arrival.
        accept_s = accepted["last_answered"] - accepted["first_sent"]
        forward_s = stats["last_ms"] / 1000 - accepted["first_sent"]
        plain_s = plain["last_answered"] - plain["first_sent"]
        runs.append({"burst": count, "accept_s": accept_s, "forward_s": forward_s, "ratio": forward_s / accept_s,
                     "accept_unforwarded_s": plain_s, "repeats": stats["received"] - stats["distinct"], "load": load})
        log(f"forward run {run}: {count} callbacks accepted in {accept_s:.3f} s ({plain_s:.3f} s with no target), "
            f"all forwarded after {forward_s:.3f} s: ratio {forward_s / accept_s:.2f} "
            f"({stats['received'] - stats['distinct']} repeats)")
    save(args.label, {"forward_burst": {
        "ratio": summarise([r["ratio"] for r in runs]),
        "accept_s": summarise([r["accept_s"] for r in runs]),
        "forward_s": summarise([r["forward_s"] for r in runs]),
        "accept_unforwarded_s": summarise([r["accept_unforwarded_s"] for r in runs]),
        "accept_cost": summarise([r["accept_s"] / r["accept_unforwarded_s"] for r in runs]),
        "app_delay_ms": args.app_delay, "senders": 64, "runs": runs}})


# ---- Prism ---------------------------------------------------------------------------------

def run_prism(args):
    spec = os.path.join(WORK, "insights_video_v1.yaml")
    os.makedirs(WORK, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "conformance", "openapi", "insights_video_v1.yaml"), spec)
    prism = os.path.join(HERE, "prism", "node_modules", ".bin", "prism")
    runs = []
    listfile = os.path.join(WORK, "prism-first.txt")
    with open(listfile, "w") as out:
        out.write("/v1/Video/Rooms\n")
    with Server([prism, "mock", "-p", str(PRISM_PORT), "-h", "127.0.0.1", spec],
                f"http://127.0.0.1:{PRISM_PORT}/v1/Video/Rooms?PageSize=50") as _:
        for run in range(args.runs):
            wait_quiet()
            wrk(f"http://127.0.0.1:{PRISM_PORT}", "urls.lua", [listfile, AUTH], 2, args.connections)
            result = wrk(f"http://127.0.0.1:{PRISM_PORT}", "urls.lua", [listfile, AUTH], args.duration, args.connections)
            runs.append(result)
            log(f"prism run {run}: {result['rps']:.0f}/s p99 {result['p99_ms']:.2f} ms")
    save(args.label, {"prism_first": {"rps": summarise([r["rps"] for r in runs]),
                                      "p99_ms": summarise([r["p99_ms"] for r in runs]), "runs": runs}})


# ---- the README table ----------------------------------------------------------------------

CASES = ["first", "depth", "filtered", "rare", "rare_type", "name", "page1000", "mixed"]


def fmt(summary, digits=0, scale=1.0):
    f = f"{{:.{digits}f}}"
    return f"{f.format(summary['median'] * scale)} ({f.format(summary['min'] * scale)}–{f.format(summary['max'] * scale)})"


def run_table(args):
    """Prints one markdown row per read case of each results file given by --label (comma list)."""
    for label in args.label.split(","):
        data = json.load(open(os.path.join(RESULTS, f"{label}.json")))
        print(f"\n{label}\n")
        print("| case | ratio to ceiling | req/s median (min–max) | p99 ms median (min–max) | ceiling req/s |")
        print("|---|---|---|---|---|")
        for case in CASES:
            if case in data:
                d = data[case]
                print(f"| {case} | {fmt(d['ratio'], 3)} | {fmt(d['rps'])} | {fmt(d['p99_ms'], 2)} | {fmt(d['ceiling_rps'])} |")
        for key in sorted(k for k in data if not k.startswith("_") and k not in CASES):
            print(f"| {key} | {json.dumps({k: v for k, v in data[key].items() if k != 'runs'})} |")
        for key in sorted(k for k in data if k.startswith("_")):
            print(f"| {key} | {json.dumps(data[key])} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["read", "write", "memory", "forward", "prism", "table"])
    parser.add_argument("--db")
    parser.add_argument("--label", required=True)
    parser.add_argument("--rooms", type=int, default=1_000_000)
    parser.add_argument("--cases")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=8, help="roomlog --database-pool")
    parser.add_argument("--response-cache", type=int, help="roomlog --response-cache (MiB; 0 = off)")
    parser.add_argument("--callbacks", type=int, default=150_000, help="pre-signed callbacks per run")
    parser.add_argument("--burst", type=int, default=2000, help="callbacks in the forward burst")
    parser.add_argument("--app-delay", type=int, default=5, help="the forward case's application answers after this (ms)")
    parser.add_argument("--max-load", type=float, default=0.5, help="wait for a 1-minute load average below this")
    parser.add_argument("--patience", type=int, default=300, help="longest wait for a quiet machine, in seconds")
    args = parser.parse_args()
    QUIET.update(limit=args.max_load, patience=args.patience)
    commands = {"read": run_read, "write": run_write, "memory": run_memory, "forward": run_forward,
                "prism": run_prism, "table": run_table}
    commands[args.command](args)


if __name__ == "__main__":
    main()
