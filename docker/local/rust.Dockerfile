# This machine cannot pull images or download a Rust toolchain: this builds the
# `docker.io/library/rust:<version>-slim-bookworm` image that docker/Dockerfile names, from the
# local Debian base and the toolchain given as the build context (`~/.rustup/toolchains/<one>`).
# Everywhere else the official image is pulled instead and this file is not used.
FROM docker.io/library/debian:bookworm-slim
ARG RUST_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY bin /usr/local/rustup/toolchains/${RUST_VERSION}-x86_64-unknown-linux-gnu/bin
COPY lib /usr/local/rustup/toolchains/${RUST_VERSION}-x86_64-unknown-linux-gnu/lib
COPY libexec /usr/local/rustup/toolchains/${RUST_VERSION}-x86_64-unknown-linux-gnu/libexec
RUN mkdir -p /usr/local/cargo/bin \
 && ln -s /usr/local/rustup/toolchains/${RUST_VERSION}-x86_64-unknown-linux-gnu/bin/* /usr/local/cargo/bin/ \
 && cargo --version && rustc --version
