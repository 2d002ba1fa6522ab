"""PgQueuer and procrastinate doing what durable-bench does: no-op jobs, each scheduled in its own
transaction by concurrent producers, run by workers with the same concurrency.

    peers.py install SYSTEM URL
    peers.py work SYSTEM URL --concurrency 16
    peers.py produce SYSTEM URL --count 10000 --producers 16
    peers.py remaining SYSTEM URL      # jobs not finished yet, for the driver's clock

SYSTEM is pgqueuer or procrastinate. Driven by ../run-durable-bench.sh.
"""

import argparse
import asyncio
import signal
import time

import asyncpg


async def pgqueuer_install(url):
    from pgqueuer import AsyncpgDriver, Queries

    connection = await asyncpg.connect(url)
    await Queries(AsyncpgDriver(connection)).install()
    await connection.close()


async def pgqueuer_work(url, concurrency):
    from pgqueuer import AsyncpgDriver, Queries, QueueManager

    connection = await asyncpg.connect(url)
    manager = QueueManager(Queries(AsyncpgDriver(connection)))

    @manager.entrypoint("noop")
    async def noop(job):
        return None

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, manager.shutdown.set)
    # batch_size: how many jobs one dequeue picks; max_concurrent_tasks at least twice that.
    await manager.run(batch_size=concurrency // 2 or 1, max_concurrent_tasks=concurrency)


async def pgqueuer_produce(url, count, producers):
    from pgqueuer import AsyncpgDriver, Queries

    connections = [await asyncpg.connect(url) for _ in range(producers)]

    async def produce(index, connection):
        queries = Queries(AsyncpgDriver(connection))
        for _ in range(index, count, producers):
            await queries.enqueue("noop", None)

    await asyncio.gather(*(produce(i, c) for i, c in enumerate(connections)))
    for connection in connections:
        await connection.close()


def procrastinate_app(url):
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=16))

    @app.task(name="noop")
    async def noop(n):
        return None

    return app, noop


async def procrastinate_install(url):
    app, _ = procrastinate_app(url)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()


async def procrastinate_work(url, concurrency):
    app, _ = procrastinate_app(url)
    async with app.open_async():
        # Handles SIGTERM itself: stops fetching and lets running jobs finish.
        await app.run_worker_async(concurrency=concurrency, install_signal_handlers=True, delete_jobs="never")


async def procrastinate_produce(url, count, producers):
    app, noop = procrastinate_app(url)
    async with app.open_async():

        async def produce(index):
            for n in range(index, count, producers):
                await noop.defer_async(n=n)

        await asyncio.gather(*(produce(i) for i in range(producers)))


REMAINING = {
    "pgqueuer": "SELECT count(*) FROM pgqueuer",
    "procrastinate": "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')",
}


async def remaining(system, url):
    connection = await asyncpg.connect(url)
    value = await connection.fetchval(REMAINING[system])
    await connection.close()
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["install", "work", "produce", "remaining"])
    parser.add_argument("system", choices=["pgqueuer", "procrastinate"])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--producers", type=int, default=16)
    arguments = parser.parse_args()
    system, url = arguments.system, arguments.url
    if arguments.command == "install":
        asyncio.run(globals()[f"{system}_install"](url))
    elif arguments.command == "work":
        asyncio.run(globals()[f"{system}_work"](url, arguments.concurrency))
    elif arguments.command == "produce":
        start = time.monotonic()
        asyncio.run(globals()[f"{system}_produce"](url, arguments.count, arguments.producers))
        seconds = time.monotonic() - start
        print(f"scheduled {arguments.count} in {seconds:.3f} s: {int(arguments.count / seconds)} jobs/s")
    else:
        print(asyncio.run(remaining(system, url)))


if __name__ == "__main__":
    main()
