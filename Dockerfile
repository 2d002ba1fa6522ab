# Loopwork demo server image.
#
#   docker build -t loopwork-demo .
#   docker run -p 8080:8080 loopwork-demo
#
# Classic builder syntax only (no RUN --mount, heredocs, COPY --link/--chmod): Debian's docker.io
# has no BuildKit, and scripts/container-test.sh builds this file with DOCKER_BUILDKIT=0 in CI.

# ---- build stage: the official Swift image, plus libuv's and libpq's headers ------------------
FROM swift:6.3-bookworm AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libuv1-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# The manifest alone first, so the resolved dependencies are a cached layer that only a manifest
# change invalidates. Package.resolved is optional (the wildcard lets it be absent).
COPY Package.swift Package.resolved* ./
RUN swift package resolve

COPY . .

# Built as scripts/build-shipped-demo.sh says: the Swift runtime and the C++ runtime it uses
# linked statically (the runtime stage needs no toolchain), relocations packed by lld, no symbols
# exported. libuv stays a shared library from Debian's libuv1, and libpq5's libpq.so.5 is loaded
# when --postgres asks for it. Symbols are stripped to keep the image small.
RUN ./scripts/build-shipped-demo.sh -Xlinker -s \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/loopwork-demo" /staging/loopwork-demo

# ---- runtime stage: Debian slim, libuv, libpq, the binary, nothing else ---------------------
FROM debian:bookworm-slim

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libuv1 libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin loopwork

COPY --from=build /staging/loopwork-demo /usr/local/bin/loopwork-demo
COPY Sources/LoopworkDemo/Static /usr/local/share/loopwork-demo/static

USER loopwork:loopwork
EXPOSE 8080

# The binary probes itself (a GET it makes and checks for 2xx), so the image needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/loopwork-demo", "--health-check", "http://127.0.0.1:8080/healthz"]

# The demo handles SIGTERM itself: it stops accepting, drains, and exits 0.
STOPSIGNAL SIGTERM

# --workers is left out on purpose: it defaults to the CPUs the process may use in the container.
CMD ["/usr/local/bin/loopwork-demo", "--host", "0.0.0.0", "--port", "8080", "--log-level", "info", \
     "--static-dir", "/usr/local/share/loopwork-demo/static"]
