#!/usr/bin/env python3
"""Keep-alive clients that POST /tasks in a loop; SIGTERM to the server after a while; counts.

Each client sends one request at a time and reads its whole answer. It stops when an answer says
`Connection: close` (the server's last answer on that connection), and counts a *cut* when the
connection ends while a request it sent is unanswered. Prints one JSON object.
"""
import json
import os
import signal
import socket
import sys
import threading
import time

REQUEST = b"POST /tasks HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"


def read_response(sock, buffer):
    """Returns (head, rest) for the next whole response, or (None, buffer) at the end of the stream."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buffer
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buffer
        rest += chunk
    return head.decode("latin-1"), rest[length:]


def client(port, result, stop_sending):
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    except OSError as error:
        result["ending"] = f"connect failed: {error}"
        return
    buffer = b""
    with sock:
        while True:
            if stop_sending.is_set():
                result["ending"] = "stopped"
                return
            try:
                sock.sendall(REQUEST)
                head, buffer = read_response(sock, buffer)
            except (ConnectionResetError, BrokenPipeError):
                head = None
            except socket.timeout:
                result["ending"] = "timeout"
                return
            if head is None:
                result["ending"] = "cut"
                return
            if not head.startswith("HTTP/1.1 202"):
                result["ending"] = f"unexpected answer: {head.splitlines()[0]}"
                return
            result["acknowledged"] += 1
            if "\r\nconnection: close" in head.lower():
                result["ending"] = "closed"
                return


def main():
    port, clients, seconds, pid = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    results = [{"acknowledged": 0, "ending": "running"} for _ in range(clients)]
    stop_sending = threading.Event()
    threads = [threading.Thread(target=client, args=(port, r, stop_sending), daemon=True) for r in results]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(max(0, deadline - time.monotonic()))
    # A client still running after 30 s is stuck; tell it to stop so the summary is honest.
    stop_sending.set()
    endings = {}
    for r in results:
        endings[r["ending"]] = endings.get(r["ending"], 0) + 1
    print(json.dumps({
        "acknowledged": sum(r["acknowledged"] for r in results),
        "cut": endings.get("cut", 0),
        "endings": endings,
    }))


if __name__ == "__main__":
    main()
