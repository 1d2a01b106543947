"""The operators' payout search on a large store (docs/admin.md, "Payouts across partners"): fills a
fresh SQLite database with N payouts across tenants (half card payouts with card orders, each card
used by a few payouts; half wallet payouts), starts payoutd on it and times each kind of search
through the admin API.

    python3 bench/payout_search.py [--payouts 100000] [--rounds 50]

Run after `make build` (PAYOUTD_BIN and PAYOUTD_CONFIG as the e2e suite takes them, defaulting to
build/payoutd and config/sandbox.toml). The rows are written straight into the database (the search
reads payouts and card orders only), so filling takes seconds, not a run of the engine."""
import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import ADMIN_TOKEN, Api, Server  # noqa: E402

TENANTS = ["bereke:sandbox-partner", "ecommpay:91348", "qiwi:best-partner", "qiwi:other-product"]
DAY_MS = 86_400_000


def fill(db_path, count, now_ms):
    """`count` payouts over the last 30 days; returns a few probes: partner ids, ids and cards."""
    rng = random.Random(17)
    db = sqlite3.connect(db_path)
    payouts, records, probes = [], [], {"partner": [], "card": [], "id": []}
    for i in range(count):
        tenant = TENANTS[i % len(TENANTS)]
        card = not tenant.startswith("qiwi:")
        created = now_ms - (count - i) * (30 * DAY_MS // count)
        partner_id = f"p{i:08d}-{rng.getrandbits(32):08x}"
        status = rng.choices([1, 2, 0], [90, 9, 1])[0]
        payouts.append((tenant, 3 if card else 0, partner_id, "fp", status, "" if status != 2 else "CARD_DECLINED",
                        1, 2, rng.randrange(100, 10_000_000), "KZT" if card else "RUB", 0, "", "", "",
                        created, created, 0, 0, 0))
        if card:
            mask = f"4{rng.randrange(10**5):05d}XXXXXX{rng.randrange(2000):04d}"  # ~2000 cards per BIN
            records.append((tenant, "card-order", partner_id,
                            json.dumps({"order_id": f"o{i}", "stage": "final", "masked_pan": mask})))
            if i % (count // 20 or 1) == 0:
                probes["card"].append(mask[:6] + "******" + mask[-4:])
        if i % (count // 20 or 1) == 0:
            probes["partner"].append(partner_id)
    db.executemany("INSERT INTO payouts (tenant, kind, partner_id, fingerprint, status, decline_code, "
                   "source_account_id, destination_account_id, amount, currency, pending_transfer_id, "
                   "source_ref, destination_ref, history_id, created_ms, updated_ms, due_ms, "
                   "history_account_id, history_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?)", payouts)
    db.executemany("INSERT INTO records (tenant, kind, key, value) VALUES (?, ?, ?, ?)", records)
    db.commit()
    probes["id"] = [r[0] for r in db.execute("SELECT id FROM payouts ORDER BY random() LIMIT 20")]
    db.close()
    return probes


def timed(api, query, rounds):
    times, sizes = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        r = api.request("GET", "/admin/v1/payouts?" + query, auth=ADMIN_TOKEN)
        times.append((time.perf_counter() - start) * 1000)
        assert r.status == 200, r.raw
        sizes.append(len(r.json["payouts"]))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], statistics.mean(sizes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--payouts", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    server = Server(backend="sqlite")
    server.start()  # provisions and migrates
    server.stop()
    now_ms = int(time.time() * 1000)
    probes = fill(os.path.join(server.data_dir, "payoutd.db"), args.payouts, now_ms)
    server.start()
    api = Api(server)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    cases = [
        ("newest 50, every tenant", "limit=50"),
        ("newest 50 of one tenant", "tenant=qiwi:best-partner&limit=50"),
        ("partner id", "id=" + probes["partner"][3]),
        ("payout id", f"id={probes['id'][0]}"),
        ("masked card", "card=" + probes["card"][2]),
        ("status PROCESSING (1%), no key", "status=PROCESSING&limit=50"),
        ("amount range, no key", "currency=KZT&min=10.00&max=20.00&limit=50"),
        ("today, every tenant", f"from={today}&to={today}&limit=50"),
        ("nothing matches, no key (a window's worth)", "status=DECLINED&currency=EUR&limit=50"),
    ]
    print(f"{args.payouts} payouts, SQLite, {args.rounds} rounds each (ms: median, p99; rows)")
    for name, query in cases:
        median, p99, rows = timed(api, query, args.rounds)
        print(f"  {name:45s} {median:7.2f} {p99:7.2f}  {rows:5.1f}")
    api.close()
    server.stop()
    server.close()


if __name__ == "__main__":
    main()
