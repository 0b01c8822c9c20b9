# telehealth-bridge container image: a static Go binary on an empty base, run as an
# unprivileged user. Build with:
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t telehealth-bridge .
# The bases are pinned by version; pin them by digest too where you build
# (docker buildx imagetools inspect golang:1.26.8-bookworm).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules first: they change less often than the code, so this layer stays cached.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# Pure Go (SQLite included): a static binary that needs no libc. timetzdata embeds the time
# zone database, which sessions' local times and quiet hours need.
ENV CGO_ENABLED=0
RUN go build -trimpath -tags timetzdata \
        -ldflags "-s -w -X main.Version=${VERSION} -X main.Commit=${COMMIT}" \
        -o /out/telehealth-bridge ./cmd/telehealth-bridge \
    && mkdir -p /out/data && chmod 0700 /out/data

FROM scratch
# CA certificates for the homeserver, PostgreSQL, SMTP and Twilio over TLS (the time zone
# database is in the binary: timetzdata).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/telehealth-bridge /usr/local/bin/telehealth-bridge
# /data holds config.yaml, registration.yaml, the SQLite database and the log files.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
# In a container the listeners must leave loopback to be reached (the environment overrides
# the config, never the file on disk).
ENV TELEHEALTH_APPSERVICE__HOSTNAME=0.0.0.0 \
    TELEHEALTH_WEB__HOSTNAME=0.0.0.0
# 29340 appservice (homeserver only), 29341 web pages (behind a TLS proxy), 29342/udp calls,
# 29343 metrics when enabled (keep it on the private network).
EXPOSE 29340 29341 29342/udp 29343
ENTRYPOINT ["/usr/local/bin/telehealth-bridge"]
CMD ["-c", "/data/config.yaml", "-r", "/data/registration.yaml"]
