#!/usr/bin/env python3
"""Streaming figures for one peer on 127.0.0.1:PORT (standard library only).

  stream_bench.py --port PORT --pid PID [--name NAME] [--quick] [--phases LIST]

Phases (default all, in this order; --phases picks some, run in the order given):
  sse             --sse-clients connections (default 2000) are connected first,
                  at most --sse-ramp handshakes at a time, then each GETs
                  /sse?events=5&interval_ms=1000 at once and reads: how many got
                  exactly "data: 0\\n\\n" ... "data: 4\\n\\n", and the peer's RSS
                  with the most of them open at once (growth / streams = RSS per
                  stream).  First, so that a GC'd runtime's heap has no slack yet.
  upload-cl       one connection POSTs --upload-mib MiB (default 1024) to /upload
                  with Content-Length, from one pre-allocated 1 MiB block sent
                  again and again; MiB/s, and the echoed {"bytes": N} must match
  upload-chunked  the same with Transfer-Encoding: chunked (64 KiB chunks)
  download        GET /download?bytes=<--download-mib MiB>, read and discarded
                  (de-chunked, framing checked); MiB/s, byte count must match
  slow            GET /download?bytes=<--slow-mib, 256> MiB with a 256 KiB
                  receive buffer, read only 1 MiB per 100 ms for 3 s, then close:
                  a peer that honours backpressure keeps its RSS flat, one that
                  copies into a queue grows by the hundreds of MiB it produced
                  (check: growth < --slow-limit-mib, 64)
  Each upload / download phase first runs one unrecorded --warmup-mib (128) MiB
  transfer of the same kind (JIT, heap growth, the previous phase's garbage).

Memory: before each phase VmHWM of PID is reset to the current RSS (writing 5
to /proc/PID/clear_refs), VmRSS is sampled every 50 ms during the phase, and
the phase's peak = max(VmHWM after, highest sample); "growth" = peak - VmRSS
before.  CPU: PID's utime+stime over the phase (all threads; /proc/PID/stat in
clock ticks), as % of wall time and, for the transfer phases (upload-cl,
upload-chunked, download, slow), as server CPU seconds per GiB of payload
transferred; and this client's own (to see which side was the bottleneck).

Output: one line per figure, then one summary line
  STREAMRESULT<TAB>name=...<TAB>key=value...
(run-stream.sh / lib/stream_report.py read it).  Exit status 1 if any check
failed (wrong count, bad framing, timeout, lost SSE events, no backpressure),
2 on bad usage.  Every phase is bounded: socket timeouts and --phase-timeout.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import threading
import time

GiB = 1 << 30
MiB = 1 << 20
KiB = 1 << 10
CHUNK = 64 * KiB
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Fail(Exception):
    pass


# ------------------------------------------------------------------ /proc --
def proc_status(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def rss_kb(pid: int) -> int:
    return proc_status(pid).get("VmRSS", 0)


def cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def self_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def reset_hwm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def mib(kb: float) -> str:
    return f"{kb / 1024:.1f} MiB"


def signed_mib(kb: float) -> str:
    return f"{'+' if kb >= 0 else '-'}{abs(kb) / 1024:.1f} MiB"


class MemWatch:
    """Server RSS before / peak / after, and server + client CPU, over a block."""

    def __init__(self, pid: int, period: float = 0.05):
        self.pid, self.period = pid, period
        self.max_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> "MemWatch":
        self.hwm_reset = reset_hwm(self.pid)
        self.before_kb = rss_kb(self.pid)
        self.max_kb = self.before_kb
        self.cpu0, self.self0, self.t0 = cpu_s(self.pid), self_cpu_s(), time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.max_kb = max(self.max_kb, rss_kb(self.pid))

    def now_kb(self) -> int:
        kb = rss_kb(self.pid)
        self.max_kb = max(self.max_kb, kb)
        return kb

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        st = proc_status(self.pid)
        self.after_kb = st.get("VmRSS", 0)
        self.peak_kb = max(self.max_kb, self.after_kb, st.get("VmHWM", 0) if self.hwm_reset else 0)
        self.growth_kb = self.peak_kb - self.before_kb
        wall = max(time.perf_counter() - self.t0, 1e-6)
        self.server_cpu_s = cpu_s(self.pid) - self.cpu0
        self.cpu_pct = 100.0 * self.server_cpu_s / wall
        self.client_cpu_pct = 100.0 * (self_cpu_s() - self.self0) / wall

    def cpu_per_gib(self, nbytes: int) -> float:
        """Server CPU seconds per GiB of nbytes (resolution: one clock tick per nbytes)."""
        return self.server_cpu_s * GiB / nbytes if nbytes else 0.0

    def cpu_figures(self, key: str, nbytes: int) -> dict[str, object]:
        """The STREAMRESULT fields of a transfer: KEY_cpu_s, KEY_cpu_s_per_gib."""
        return {f"{key}_cpu_s": round(self.server_cpu_s, 2), f"{key}_cpu_s_per_gib": round(self.cpu_per_gib(nbytes), 3)}

    def describe(self, nbytes: int | None = None) -> str:
        per_gib = (f" = {self.server_cpu_s:.2f} s, {self.cpu_per_gib(nbytes):.2f} s/GiB"
                   if nbytes is not None else "")
        return (f"RSS {mib(self.before_kb)} -> {mib(self.after_kb)}, peak {signed_mib(self.growth_kb)}; "
                f"server cpu {self.cpu_pct:.0f}%{per_gib}, client cpu {self.client_cpu_pct:.0f}%")


def settle(pid: int, limit_s: float = 5.0) -> float:
    """Wait until the server is idle (<10 % CPU over 0.2 s); returns seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        c0 = cpu_s(pid)
        time.sleep(0.2)
        if cpu_s(pid) - c0 < 0.02:
            break
    return time.perf_counter() - t0


# ------------------------------------------------------------ HTTP client --
class Conn:
    """One blocking HTTP/1.1 connection with a small parse buffer."""

    def __init__(self, port: int, timeout: float, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect: fixes the window, disables autotuning
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = bytearray()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def read_head(self) -> tuple[int, dict[str, str]]:
        while (idx := self.pending.find(b"\r\n\r\n")) < 0:
            if len(self.pending) > 64 * KiB:
                raise Fail("response head over 64 KiB")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fail("connection closed before a response head")
            self.pending += chunk
        head = bytes(self.pending[:idx]).decode("latin-1")
        del self.pending[: idx + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise Fail(f"bad status line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
        return int(parts[1]), headers

    def read_small_body(self, headers: dict[str, str], limit: int = 1 * MiB) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            sink = bytearray()
            d = Dechunker(keep=sink, limit=limit)
            d.feed(self.pending, 0, len(self.pending))
            self.pending = bytearray(self.pending[d.consumed_last:])
            while not d.done:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Fail("connection closed inside a chunked body")
                used = d.feed(chunk, 0, len(chunk))
                if d.done:
                    self.pending += chunk[used:]
            return bytes(sink)
        n = int(headers.get("content-length", "0"))
        if n > limit:
            raise Fail(f"body of {n} bytes, expected a small one")
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fail("connection closed inside a body")
            self.pending += chunk
        body = bytes(self.pending[:n])
        del self.pending[:n]
        return body


class Dechunker:
    """Incremental Transfer-Encoding: chunked decoder that counts payload bytes
    (optionally keeping them) without copying the data it skips."""

    SIZE, DATA, CRLF, TRAILER = range(4)

    def __init__(self, keep: bytearray | None = None, limit: int = 0):
        self.state = self.SIZE
        self.remaining = 0
        self.crlf_seen = 0
        self.line = b""
        self.total = 0
        self.chunks = 0
        self.done = False
        self.keep, self.limit = keep, limit
        self.consumed_last = 0

    def feed(self, buf, i: int, n: int) -> int:
        """Consume buf[i:n]; returns the index after the last byte used."""
        while i < n and not self.done:
            if self.state == self.DATA:
                take = min(self.remaining, n - i)
                if self.keep is not None:
                    self.keep += buf[i: i + take]
                    if self.limit and len(self.keep) > self.limit:
                        raise Fail("chunked body larger than expected")
                self.total += take
                self.remaining -= take
                i += take
                if self.remaining == 0:
                    self.state, self.crlf_seen = self.CRLF, 0
            elif self.state == self.CRLF:
                want = b"\r\n"[self.crlf_seen]
                if buf[i] != want:
                    raise Fail(f"chunk not followed by CRLF (byte {buf[i]!r} after {self.total} payload bytes)")
                self.crlf_seen += 1
                i += 1
                if self.crlf_seen == 2:
                    self.state = self.SIZE
            else:  # SIZE or TRAILER: a line ending in \n
                j = buf.find(b"\n", i, n)
                if j < 0:
                    self.line += bytes(buf[i:n])
                    if len(self.line) > 4096:
                        raise Fail("chunk-size / trailer line over 4 KiB")
                    i = n
                    break
                line = self.line + bytes(buf[i: j + 1])
                self.line = b""
                i = j + 1
                if self.state == self.SIZE:
                    try:
                        size = int(line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        raise Fail(f"bad chunk-size line {line[:40]!r}") from None
                    if size == 0:
                        self.state = self.TRAILER
                    else:
                        self.state, self.remaining = self.DATA, size
                        self.chunks += 1
                elif line.strip() == b"":
                    self.done = True
        self.consumed_last = i
        return i


def request_head(method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{extra}\r\n".encode()


def check_streamed(status: int, headers: dict[str, str], what: str) -> None:
    if status != 200:
        raise Fail(f"{what}: status {status}")
    if "chunked" not in headers.get("transfer-encoding", "").lower():
        raise Fail(f"{what}: not chunked (transfer-encoding {headers.get('transfer-encoding')!r}, "
                   f"content-length {headers.get('content-length')!r})")


# ----------------------------------------------------------------- phases --
def _upload_block(chunked: bool) -> bytes:
    payload = b"u" * CHUNK
    if chunked:  # 16 framed 64 KiB chunks = 1 MiB of payload per send
        return (b"%x\r\n" % CHUNK + payload + b"\r\n") * (MiB // CHUNK)
    return payload * (MiB // CHUNK)


def _upload_once(port: int, size_mib: int, chunked: bool, block: bytes, limit_s: float) -> tuple[float, int]:
    """POST size_mib MiB to /upload; returns (seconds, count echoed).  Fail carries the partial rate."""
    total = size_mib * MiB
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = request_head("POST", "/upload", f"Content-Type: application/octet-stream\r\n{framing}\r\n")
    sent = 0
    conn = Conn(port, timeout=10)
    t0 = time.perf_counter()
    try:
        conn.sock.sendall(head)
        for _ in range(size_mib):
            conn.sock.sendall(block)
            sent += MiB
            if time.perf_counter() - t0 > limit_s:
                raise Fail(f"timeout: {sent // MiB} of {size_mib} MiB sent in {limit_s:.0f} s")
        if chunked:
            conn.sock.sendall(b"0\r\n\r\n")
        status, headers = conn.read_head()
        body = conn.read_small_body(headers)
        elapsed = time.perf_counter() - t0
    except (OSError, Fail) as e:
        raise Fail(f"{e} (after {sent // MiB} MiB, {sent / MiB / (time.perf_counter() - t0):.0f} MiB/s)") from None
    finally:
        conn.close()
    if status != 200:
        raise Fail(f"status {status}: {body[:80]!r}")
    try:
        return elapsed, int(json.loads(body)["bytes"])
    except Exception:  # noqa: BLE001
        raise Fail(f"body {body[:80]!r} is not {{\"bytes\": N}}") from None


def phase_upload(res: dict, port: int, pid: int, size_mib: int, chunked: bool, limit_s: float,
                 warmup_mib: int) -> None:
    name = "upload_chunked" if chunked else "upload_cl"
    total = size_mib * MiB
    block = _upload_block(chunked)
    res[f"{name}_ok"] = 0
    if warmup_mib:  # unrecorded: JIT, heap growth, collecting the previous phase's garbage
        try:
            _upload_once(port, warmup_mib, chunked, block, limit_s)
        except Fail as e:
            raise Fail(f"warm-up: {e}") from None
        settle(pid)
    with MemWatch(pid) as mw:
        elapsed, echoed = _upload_once(port, size_mib, chunked, block, limit_s)
    mibs = total / MiB / elapsed
    res.update({f"{name}_mibs": round(mibs, 1), f"{name}_growth_kb": mw.growth_kb,
                f"{name}_cpu": round(mw.cpu_pct), f"{name}_client_cpu": round(mw.client_cpu_pct),
                **mw.cpu_figures(name, total)})
    if echoed != total:
        raise Fail(f"server counted {echoed} bytes, sent {total}")
    res[f"{name}_ok"] = 1
    print(f"{name:<15} {size_mib} MiB in {elapsed:.2f} s = {mibs:8.1f} MiB/s  echoed {echoed} ok  {mw.describe(total)}")


def _download_once(port: int, size_mib: int, limit_s: float, buf: bytearray) -> tuple[float, "Dechunker"]:
    total = size_mib * MiB
    mv = memoryview(buf)
    d = Dechunker()
    conn = Conn(port, timeout=10)
    t0 = time.perf_counter()
    try:
        conn.sock.sendall(request_head("GET", f"/download?bytes={total}"))
        status, headers = conn.read_head()
        check_streamed(status, headers, "download")
        d.feed(conn.pending, 0, len(conn.pending))
        while not d.done:
            n = conn.sock.recv_into(mv)
            if n == 0:
                raise Fail("connection closed before the last chunk")
            d.feed(buf, 0, n)
            if time.perf_counter() - t0 > limit_s:
                raise Fail(f"timeout: {d.total // MiB} of {size_mib} MiB in {limit_s:.0f} s")
        elapsed = time.perf_counter() - t0
    except (OSError, Fail) as e:
        raise Fail(f"{e} (after {d.total // MiB} MiB, {d.total / MiB / (time.perf_counter() - t0):.0f} MiB/s)") from None
    finally:
        conn.close()
    if d.total != total:
        raise Fail(f"received {d.total} bytes, asked for {total}")
    return elapsed, d


def phase_download(res: dict, port: int, pid: int, size_mib: int, limit_s: float, warmup_mib: int) -> None:
    res["download_ok"] = 0
    buf = bytearray(MiB)
    if warmup_mib:
        try:
            _download_once(port, warmup_mib, limit_s, buf)
        except Fail as e:
            raise Fail(f"warm-up: {e}") from None
        settle(pid)
    with MemWatch(pid) as mw:
        elapsed, d = _download_once(port, size_mib, limit_s, buf)
    mibs = d.total / MiB / elapsed
    avg_kib = d.total / max(d.chunks, 1) / KiB
    res.update({"download_mibs": round(mibs, 1), "download_growth_kb": mw.growth_kb,
                "download_cpu": round(mw.cpu_pct), "download_client_cpu": round(mw.client_cpu_pct),
                "download_chunk_kib": round(avg_kib, 1), **mw.cpu_figures("download", d.total)})
    res["download_ok"] = 1
    print(f"{'download':<15} {size_mib} MiB in {elapsed:.2f} s = {mibs:8.1f} MiB/s  "
          f"{d.chunks} chunks (avg {avg_kib:.0f} KiB) ok  {mw.describe(d.total)}")


def phase_slow(res: dict, port: int, pid: int, seconds: float, limit_mib: int, ask_mib: int = 256) -> None:
    step, period = 1 * MiB, 0.1
    res["slow_ok"] = 0
    buf = bytearray(step)
    mv = memoryview(buf)
    conn = Conn(port, timeout=2, rcvbuf=256 * KiB)
    d = Dechunker()
    raw = 0
    try:
        with MemWatch(pid) as mw:
            conn.sock.sendall(request_head("GET", f"/download?bytes={ask_mib * MiB}"))
            status, headers = conn.read_head()
            check_streamed(status, headers, "slow reader")
            raw += len(conn.pending)
            d.feed(conn.pending, 0, len(conn.pending))
            t0 = time.perf_counter()
            tick = 0
            while time.perf_counter() - t0 < seconds and not d.done:
                want = step
                while want > 0 and not d.done:
                    try:
                        n = conn.sock.recv_into(mv[:want])
                    except socket.timeout:
                        raise Fail("server sent nothing for 2 s") from None
                    if n == 0:
                        raise Fail("connection closed early")
                    d.feed(buf, 0, n)
                    raw += n
                    want -= n
                tick += 1
                time.sleep(max(0.0, t0 + tick * period - time.perf_counter()))
            held_s = time.perf_counter() - t0
            end_kb = mw.now_kb()
        conn.close()
        after_close = settle(pid)
        growth_end = end_kb - mw.before_kb
        res.update({"slow_read_mib": round(raw / MiB, 1), "slow_growth_kb": growth_end,
                    "slow_peak_growth_kb": mw.growth_kb, "slow_cpu": round(mw.cpu_pct),
                    "slow_busy_after_close_s": round(after_close, 1), **mw.cpu_figures("slow", d.total)})
        verdict = "flat" if mw.growth_kb < limit_mib * KiB else "GROWS: buffers instead of waiting"
        note = f"; busy {after_close:.1f} s after close" if after_close > 0.5 else ""
        print(f"{'slow-reader':<15} read {raw / MiB:.1f} of {ask_mib} MiB in {held_s:.1f} s: server RSS "
              f"{signed_mib(growth_end)} at the end, peak {signed_mib(mw.growth_kb)}, server cpu "
              f"{mw.cpu_pct:.0f}% = {mw.server_cpu_s:.2f} s, {mw.cpu_per_gib(d.total):.2f} s/GiB{note} -> {verdict}")
        if d.done:
            raise Fail(f"the whole {ask_mib} MiB arrived while reading 1 MiB / 100 ms?")
        if mw.growth_kb >= limit_mib * KiB:
            raise Fail(f"RSS grew {mib(mw.growth_kb)} (limit {limit_mib} MiB) while the client read slowly")
        res["slow_ok"] = 1
    finally:
        conn.close()


def listen_overflows() -> int:
    """TcpExt ListenOverflows + ListenDrops (SYNs/ACKs dropped at a full accept queue)."""
    try:
        with open("/proc/net/netstat") as f:
            rows = [line.split() for line in f if line.startswith("TcpExt:")]
        d = dict(zip(rows[0][1:], rows[1][1:]))
        return int(d.get("ListenOverflows", 0)) + int(d.get("ListenDrops", 0))
    except (OSError, IndexError, ValueError):
        return 0


def _count_error(st: dict, e: BaseException) -> None:
    key = "timeout" if isinstance(e, TimeoutError) else (str(e)[:60] if isinstance(e, Fail) else type(e).__name__)
    st["errors"][key] = st["errors"].get(key, 0) + 1


async def _sse_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: bytes,
                      expected: bytes, st: dict, timeout: float) -> None:
    opened = False
    try:
        async with asyncio.timeout(timeout):
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            t_head = time.perf_counter()
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            if status != 200 or not hdrs.get("content-type", "").startswith("text/event-stream"):
                raise Fail(f"status {status} content-type {hdrs.get('content-type')!r}")
            if "chunked" not in hdrs.get("transfer-encoding", "").lower():
                raise Fail("not chunked")
            st["open"] += 1
            opened = True
            if st["open"] >= st["max_open"]:
                st["max_open"] = st["open"]
                if st["open"] == st["clients"]:
                    st["all_open"].set()
            body = bytearray()
            while True:
                line = await reader.readline()
                if not line:
                    raise Fail("closed before the last chunk")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await reader.readline()).strip():
                        pass
                    break
                body += (await reader.readexactly(size + 2))[:-2]
                if len(body) > 4 * len(expected) + 1024:
                    raise Fail("far more data than expected")
            st["lags"].append(time.perf_counter() - t_head - st["span_s"])
            if bytes(body) != expected:
                raise Fail(f"events differ: {bytes(body[:60])!r}")
            st["complete"] += 1
    except (OSError, Fail, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
        _count_error(st, e)  # TimeoutError is an OSError
    finally:
        if opened:
            st["open"] -= 1
        writer.close()


async def _sse_run(port: int, clients: int, events: int, interval_ms: int, ramp: int, mw: MemWatch) -> dict:
    expected = b"".join(b"data: %d\n\n" % i for i in range(events))
    span_s = (events - 1) * interval_ms / 1000 if events else 0.0
    st = {"open": 0, "max_open": 0, "clients": clients, "complete": 0, "errors": {},
          "lags": [], "span_s": span_s, "all_open": asyncio.Event(), "samples": []}
    path = f"/sse?events={events}&interval_ms={interval_ms}".encode()
    sem = asyncio.Semaphore(ramp)
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    # 1. Connect every client first (at most `ramp` handshakes in flight): a TCP
    #    connect rate of a few hundred per second on a busy VM would otherwise
    #    spread 2000 streams of a few seconds over time instead of overlapping.
    async def connect() -> None:
        async with sem:
            try:
                async with asyncio.timeout(10):
                    conns.append(await asyncio.open_connection(HOST, port))
            except OSError as e:
                _count_error(st, e)

    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(30):  # the whole connect stage is bounded too
            await asyncio.gather(*(connect() for _ in range(clients)))
    except TimeoutError:
        st["errors"]["not connected within 30 s"] = clients - len(conns)
    st["connect_s"] = time.perf_counter() - t0
    st["connected"] = len(conns)
    st["connected_kb"] = mw.now_kb()

    async def sampler() -> None:
        while True:
            st["samples"].append((st["open"], mw.now_kb()))
            try:
                await asyncio.wait_for(st["all_open"].wait(), 0.05)
                st["samples"].append((st["open"], mw.now_kb()))  # the moment all are open
                st["all_open"].clear()
            except TimeoutError:
                pass

    # 2. Then every client sends its GET at once and reads its stream.
    t1 = time.perf_counter()
    samp = asyncio.create_task(sampler())
    await asyncio.gather(*(_sse_client(r, w, path, expected, st, span_s + 20.0) for r, w in conns))
    samp.cancel()
    st["stream_s"] = time.perf_counter() - t1
    return st


def phase_sse(res: dict, port: int, pid: int, clients: int, events: int, interval_ms: int, ramp: int) -> None:
    res.update({"sse_ok": 0, "sse_clients": clients})
    drops0 = listen_overflows()
    with MemWatch(pid) as mw:
        st = asyncio.run(_sse_run(port, clients, events, interval_ms, ramp, mw))
    drops = listen_overflows() - drops0
    samples = st["samples"] or [(0, mw.before_kb)]
    best_open = max(o for o, _ in samples)
    open_kb = max(kb for o, kb in samples if o == best_open)
    growth = open_kb - mw.before_kb
    per_client = growth / best_open if best_open else 0.0
    errs = ", ".join(f"{k}: {v}" for k, v in sorted(st["errors"].items(), key=lambda kv: -kv[1])[:3])
    lags = sorted(st["lags"]) or [0.0]
    lag50, lagmax = max(0.0, lags[len(lags) // 2]), max(0.0, lags[-1])
    res.update({"sse_complete": st["complete"], "sse_max_open": best_open, "sse_rss_kb": open_kb,
                "sse_growth_kb": growth, "sse_per_client_kb": round(per_client, 1),
                "sse_connected_growth_kb": st["connected_kb"] - mw.before_kb,
                "sse_peak_growth_kb": mw.growth_kb, "sse_p50_lag_ms": round(lag50 * 1000), "sse_max_lag_ms": round(lagmax * 1000),
                "sse_connect_s": round(st["connect_s"], 1), "sse_listen_drops": drops,
                "sse_cpu": round(mw.cpu_pct), "sse_client_cpu": round(mw.client_cpu_pct)})
    print(f"{'sse':<15} {st['complete']}/{clients} clients got all {events} events "
          f"({st['connected']} connected in {st['connect_s']:.1f} s, RSS {signed_mib(st['connected_kb'] - mw.before_kb)}; "
          f"streams took {st['stream_s']:.1f} s); {best_open} open at once: RSS {mib(mw.before_kb)} -> {mib(open_kb)} "
          f"({signed_mib(growth)}, {per_client:.1f} KiB/client); last event late by {lag50 * 1000:.0f} ms "
          f"(median) / {lagmax * 1000:.0f} ms (max); "
          f"server cpu {mw.cpu_pct:.0f}%, client cpu {mw.client_cpu_pct:.0f}%"
          f"{f'; {drops} listen-queue drops' if drops else ''}{'; errors ' + errs if errs else ''}")
    if st["complete"] != clients:
        raise Fail(f"only {st['complete']}/{clients} SSE clients got all {events} events ({errs or 'no error seen'})")
    res["sse_ok"] = 1


# ------------------------------------------------------------------- main --
# SSE first: on a fresh process a GC'd runtime's heap has no slack yet, so its
# RSS growth with the clients open is theirs, not refilled garbage space.
PHASES = ("sse", "upload-cl", "upload-chunked", "download", "slow")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="PID of the listening process (for /proc)")
    ap.add_argument("--name", default="peer")
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma list of {','.join(PHASES)}")
    ap.add_argument("--upload-mib", type=int, default=None, help="MiB per upload (default 1024, --quick 128)")
    ap.add_argument("--download-mib", type=int, default=None, help="MiB downloaded (default 1024, --quick 128)")
    ap.add_argument("--slow-seconds", type=float, default=None, help="slow-reader duration (default 3, --quick 1)")
    ap.add_argument("--slow-mib", type=int, default=256, help="MiB the slow reader asks for (default 256)")
    ap.add_argument("--slow-limit-mib", type=int, default=64, help="slow-reader RSS growth that fails (default 64)")
    ap.add_argument("--sse-clients", type=int, default=None, help="default 2000, --quick 200")
    ap.add_argument("--sse-events", type=int, default=None, help="default 5, --quick 3")
    ap.add_argument("--sse-interval-ms", type=int, default=None, help="default 1000, --quick 200")
    ap.add_argument("--sse-ramp", type=int, default=100, help="SSE connects in flight at once (default 100)")
    ap.add_argument("--warmup-mib", type=int, default=None,
                    help="unrecorded transfer before each upload/download phase (default 128, --quick 16; 0 = none)")
    ap.add_argument("--phase-timeout", type=float, default=None, help="seconds per transfer phase (default 25, --quick 10)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test in a few seconds")
    a = ap.parse_args()

    q = a.quick
    a.upload_mib = a.upload_mib or (128 if q else 1024)
    a.download_mib = a.download_mib or (128 if q else 1024)
    a.slow_seconds = a.slow_seconds or (1.0 if q else 3.0)
    a.sse_clients = a.sse_clients if a.sse_clients is not None else (200 if q else 2000)
    a.sse_events = a.sse_events if a.sse_events is not None else (3 if q else 5)
    a.sse_interval_ms = a.sse_interval_ms if a.sse_interval_ms is not None else (200 if q else 1000)
    a.phase_timeout = a.phase_timeout or (10.0 if q else 25.0)
    a.warmup_mib = a.warmup_mib if a.warmup_mib is not None else (16 if q else 128)
    phases = [p.strip() for p in a.phases.split(",") if p.strip()]
    bad = [p for p in phases if p not in PHASES]
    if bad or not phases:
        print(f"stream_bench: unknown phase(s) {bad}; choose from {','.join(PHASES)}", file=sys.stderr)
        return 2
    if not (1 <= a.upload_mib <= 4096 and 1 <= a.download_mib <= 4096 and 0 < a.slow_seconds <= 10
            and 0 <= a.sse_clients <= 10000 and 1 <= a.sse_events <= 100 and 0 <= a.sse_interval_ms <= 5000
            and 1 <= a.sse_ramp <= 1000 and 1 <= a.phase_timeout <= 120 and 64 <= a.slow_mib <= 4096 and 0 <= a.warmup_mib <= 1024):
        print("stream_bench: a size or duration is out of its bounds (see --help)", file=sys.stderr)
        return 2
    if not os.path.exists(f"/proc/{a.pid}/status"):
        print(f"stream_bench: no process {a.pid}", file=sys.stderr)
        return 2
    # Room for the SSE sockets.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.sse_clients + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(hard, max(need, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < need:
            print(f"stream_bench: only {new} file descriptors allowed, fewer than {need}", file=sys.stderr)

    res: dict[str, object] = {"name": a.name, "rss_start_kb": rss_kb(a.pid)}
    failed: list[str] = []
    for p in phases:
        try:
            if p == "upload-cl":
                phase_upload(res, a.port, a.pid, a.upload_mib, False, a.phase_timeout, a.warmup_mib)
            elif p == "upload-chunked":
                phase_upload(res, a.port, a.pid, a.upload_mib, True, a.phase_timeout, a.warmup_mib)
            elif p == "download":
                phase_download(res, a.port, a.pid, a.download_mib, a.phase_timeout, a.warmup_mib)
            elif p == "slow":
                phase_slow(res, a.port, a.pid, a.slow_seconds, a.slow_limit_mib, a.slow_mib)
            elif p == "sse":
                phase_sse(res, a.port, a.pid, a.sse_clients, a.sse_events, a.sse_interval_ms, a.sse_ramp)
        except Exception as e:  # noqa: BLE001 - any failure is this phase's verdict
            key = p.replace("-", "_")
            res[f"{key}_ok"] = 0
            res[f"{key}_error"] = str(e).replace("\t", " ")[:160]
            failed.append(p)
            print(f"{p:<15} FAIL: {type(e).__name__ + ': ' if not isinstance(e, Fail) else ''}{e}")
        if not os.path.exists(f"/proc/{a.pid}/status"):
            print(f"stream_bench: server process {a.pid} is gone after {p}")
            failed.append(f"{p}: server died")
            res["died_in"] = p
            break
        settle(a.pid)
    res["rss_end_kb"] = rss_kb(a.pid)
    res["settings"] = (f"upload {a.upload_mib} MiB, download {a.download_mib} MiB (after {a.warmup_mib} MiB "
                       f"unrecorded warm-up each), slow {a.slow_seconds:g} s / {a.slow_mib} MiB, "
                       f"sse {a.sse_clients}x{a.sse_events}@{a.sse_interval_ms}ms")
    res["checks"] = "ok" if not failed else "FAIL:" + ",".join(failed)
    print("STREAMRESULT\t" + "\t".join(f"{k}={v}" for k, v in res.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
