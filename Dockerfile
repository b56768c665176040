# syntax=docker/dockerfile:1
# The one mediamesh image: every context (`mediamesh serve --target APP.CONTEXT`) and the
# gateway's config writer (`mediamesh gateway`) run from it. Build: docker build -t mediamesh .

# Build: the workspace in release mode. Contracts compile with protox (pure Rust): no protoc.
# The toolchain this repository is built and tested with.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p mediamesh \
    && install -m 755 target/release/mediamesh /usr/local/bin/mediamesh

# Run: a slim Debian with the binary alone, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/mediamesh /usr/local/bin/mediamesh
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data mediamesh \
    && mkdir -p /data && chown mediamesh:mediamesh /data
USER 10001:10001
WORKDIR /data
# gRPC (every service, health, reflection) and Prometheus /metrics; both bind loopback
# unless told otherwise (the chart sets 0.0.0.0 through MEDIAMESH_GRPC_ADDR / _ADMIN_ADDR).
EXPOSE 50051 9464
ENTRYPOINT ["mediamesh"]
CMD ["serve", "--grpc-addr", "0.0.0.0:50051", "--admin-addr", "0.0.0.0:9464"]
