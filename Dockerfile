# pooltrace: build the release binary, run it on a slim Debian.
#   docker build -t pooltrace .
#   docker run --rm pooltrace --help
# docker-compose.yml runs it against Kafka (README: Kafka).

FROM rust:1-bookworm AS build
# librdkafka is built from source (rdkafka's bundled build, its configure +
# make): a C/C++ toolchain, make, perl, python3, OpenSSL and zlib headers;
# cmake only matters if rdkafka's `cmake-build` feature is ever turned on.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake make perl python3 pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY src src
COPY benches benches
RUN cargo build --release --locked --bin pooltrace \
 && cp target/release/pooltrace /usr/local/bin/pooltrace

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data pooltrace \
 && mkdir -p /data \
 && chown pooltrace /data
COPY --from=build /usr/local/bin/pooltrace /usr/local/bin/pooltrace
USER pooltrace
WORKDIR /data
VOLUME ["/data"]
# Prometheus metrics, when [kafka] metrics_listen = "0.0.0.0:9464".
EXPOSE 9464
ENTRYPOINT ["pooltrace"]
CMD ["--help"]
