#!/usr/bin/env python3
"""Turn run-stream.sh's results.tsv into one markdown table, peers side by side.

Each results.tsv row is: peer, phase, rc, other_cpu_pct, other_top, then the
STREAMRESULT line of lib/stream_bench.py (key=value fields).  Rows of one peer
are merged (one stream_bench run per phase in the interleaved mode).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import cpu_model, sh, venv_versions  # noqa: E402


def num(v: str | None) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except ValueError:
        return None


def kb_mib(v: str | None, signed: bool = True) -> str:
    x = num(v)
    if x is None:
        return "—"
    return f"{'+' if signed and x >= 0 else ''}{x / 1024:.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--mode", default="interleaved")
    ap.add_argument("--server-cpu", default="1")
    ap.add_argument("--client-cpu", default="0")
    ap.add_argument("--load-before", default="?")
    ap.add_argument("--peers", default="")
    ap.add_argument("--skipped", default="")
    a = ap.parse_args()

    peers = [p for p in a.peers.split(",") if p]
    data: dict[str, dict[str, str]] = {p: {} for p in peers}
    other: dict[str, list[tuple[float, str, str]]] = {p: [] for p in peers}
    with open(a.results) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 6:
                continue
            peer, phase, _rc, opct, otop = cols[:5]
            d = data.setdefault(peer, {})
            if peer not in peers:
                peers.append(peer)
            for kv in cols[6:]:
                k, _, v = kv.partition("=")
                if k == "checks":
                    if v != "ok":
                        d["checks_failed"] = (d.get("checks_failed", "") + " " + v).strip()
                    d.setdefault("checks", "ok")
                    continue
                d[k] = v
            if phase != "-" and num(opct) is not None:
                other.setdefault(peer, []).append((float(opct), phase, otop))

    def cell(p: str, key: str, fmt) -> str:
        d = data.get(p, {})
        phase_ok = key.split("_")[0]
        if key.startswith("upload_cl"):
            phase_ok = "upload_cl"
        elif key.startswith("upload_chunked"):
            phase_ok = "upload_chunked"
        v = d.get(key)
        s = fmt(v) if v not in (None, "") else "—"
        if d.get(f"{phase_ok}_ok") == "0":
            s = f"FAIL {s}" if s != "—" else "FAIL"
        return s

    def mibs(v: str) -> str:
        x = num(v)
        return "—" if x is None else f"{x:,.0f} MiB/s"

    def pct(v: str) -> str:
        return f"{num(v):.0f}%" if num(v) is not None else "—"

    rows: list[tuple[str, str, object]] = [
        ("idle RSS (after start + check)", "idle_rss_kb", lambda v: kb_mib(v, signed=False)),
        ("SSE: clients that got every event", "sse_complete",
         None),
        ("SSE: streams open at once", "sse_max_open", lambda v: f"{int(num(v) or 0):,}"),
        ("SSE: RSS growth, all connected, before the GETs", "sse_connected_growth_kb", kb_mib),
        ("SSE: RSS growth with them open", "sse_growth_kb", kb_mib),
        ("SSE: RSS per open stream", "sse_per_client_kb", lambda v: f"{num(v):.1f} KiB"),
        ("SSE: last event late by (median / max)", "sse_max_lag_ms", None),
        ("SSE: server CPU", "sse_cpu", pct),
        ("upload, Content-Length", "upload_cl_mibs", mibs),
        ("upload, Content-Length: peak RSS growth", "upload_cl_growth_kb", kb_mib),
        ("upload, Content-Length: server / client CPU", "upload_cl_cpu", None),
        ("upload, Content-Length: server CPU per GiB (% of wall)", "upload_cl_cpu_s_per_gib", None),
        ("upload, chunked", "upload_chunked_mibs", mibs),
        ("upload, chunked: peak RSS growth", "upload_chunked_growth_kb", kb_mib),
        ("upload, chunked: server / client CPU", "upload_chunked_cpu", None),
        ("upload, chunked: server CPU per GiB (% of wall)", "upload_chunked_cpu_s_per_gib", None),
        ("download", "download_mibs", mibs),
        ("download: peak RSS growth", "download_growth_kb", kb_mib),
        ("download: server / client CPU", "download_cpu", None),
        ("download: server CPU per GiB (% of wall)", "download_cpu_s_per_gib", None),
        ("slow reader: RSS growth after the hold (peak)", "slow_growth_kb", None),
        ("slow reader: server CPU while held", "slow_cpu", pct),
        ("slow reader: server CPU per GiB read (% of wall)", "slow_cpu_s_per_gib", None),
    ]

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    settings = next((d["settings"] for d in data.values() if d.get("settings")), "?")
    print(f"## Streaming benchmark — {now}")
    print()
    print(f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, kernel {platform.release()}; "
          f"before the run: {a.load_before}")
    print(f"- peers pinned to CPU {a.server_cpu}, `lib/stream_bench.py` (one Python client) pinned to CPU "
          f"{a.client_cpu}; {settings}; "
          + ("interleaved: all peers up, each phase run on every peer back to back"
             if a.mode == "interleaved" else "sequential: one peer at a time"))
    print(f"- node {sh(['node', '--version'])}; {sh(['swift', '--version'])}; fastapi venv: {venv_versions()}")
    if a.skipped:
        print(f"- skipped: {a.skipped}")
    print()
    print("| figure | " + " | ".join(peers) + " |")
    print("|---|" + "---:|" * len(peers))
    for label, key, fmt in rows:
        cells = []
        for p in peers:
            d = data.get(p, {})
            if key == "sse_complete":
                c = d.get("sse_complete")
                cells.append("—" if c is None else
                             ("" if d.get("sse_ok") == "1" else "FAIL ") + f"{int(c):,}/{int(num(d.get('sse_clients')) or 0):,}")
            elif key == "sse_max_lag_ms":
                m, x = d.get("sse_p50_lag_ms"), d.get("sse_max_lag_ms")
                cells.append("—" if x is None else f"{num(m) or 0:.0f} / {num(x):.0f} ms")
            elif key.endswith("_cpu_s_per_gib"):
                wall_pct = num(d.get(key[: -len("_s_per_gib")]))  # KEY_cpu
                cells.append(cell(p, key, lambda v: f"{num(v):.2f} s ({wall_pct or 0:.0f}%)"))
            elif key.endswith("_cpu") and fmt is None:
                base = key[: -len("_cpu")]
                s, c = d.get(f"{base}_cpu"), d.get(f"{base}_client_cpu")
                cells.append("—" if s is None else f"{num(s):.0f}% / {num(c) or 0:.0f}%")
            elif key == "slow_growth_kb":
                if d.get("slow_growth_kb") is None:
                    cells.append("FAIL" if d.get("slow_ok") == "0" else "—")
                else:
                    s = f"{kb_mib(d.get('slow_growth_kb'))} ({kb_mib(d.get('slow_peak_growth_kb'))})"
                    cells.append(s if d.get("slow_ok") == "1" else f"**{s}: buffers**")
            else:
                cells.append(cell(p, key, fmt))
        print(f"| {label} | " + " | ".join(cells) + " |")
    checks = []
    for p in peers:
        d = data.get(p, {})
        checks.append(("FAIL: " + d["checks_failed"]) if d.get("checks_failed") else d.get("checks", "—"))
    print("| stream_bench checks | " + " | ".join(checks) + " |")
    print("| `check_peer.py --stream` | " + " | ".join(data.get(p, {}).get("contract", "—") for p in peers) + " |")
    worst = []
    for p in peers:
        o = max(other.get(p, []), default=None)
        worst.append("—" if o is None else (f"{o[0]:.0f}% ({o[1]}{': ' + o[2] if o[2] else ''})" if o[0] >= 1 else "0%"))
    print("| other CPU, worst phase | " + " | ".join(worst) + " |")
    print()
    errors = [(p, k, v) for p in peers for k, v in data.get(p, {}).items() if k.endswith("_error")]
    for p, k, v in errors:
        print(f"- {p} {k[:-len('_error')]}: {v}")
    if errors:
        print()
    print("MiB/s = payload MiB ÷ wall time of one connection (request head to the last byte of the "
          "response). RSS growth = peak VmRSS of the listening process during the phase (VmHWM reset "
          "before it, plus 50 ms samples) − its VmRSS when the phase began; the slow reader's figure is "
          "VmRSS after holding the stream (peak in brackets). CPU: % of one CPU over the phase (server "
          "= all its threads; client = the Python client, which bounds the transfer rows when near 100 %). "
          "CPU per GiB = the server's utime+stime over the transfer ÷ GiB of payload moved (the slow "
          "reader: read by the client), with its % of wall time in brackets: what a GiB costs the "
          "server, whatever the rate; resolution ±2 clock ticks (10 ms each at 100 Hz), ±0.02 s on 1 GiB.")


if __name__ == "__main__":
    main()
