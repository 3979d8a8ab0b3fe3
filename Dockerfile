# syntax=docker/dockerfile:1
# Multi-stage build of the one slapipe binary into a small image: a static
# binary (CGO off; the SQLite driver is pure Go) on distroless, run as
# nonroot. -tags nodemo leaves `slapipe demo` and all it links (the embedded
# Prometheus with its TSDB, PromQL engine and cloud SDKs, kfake) out of the
# image: a smaller binary whose components start faster (README, Figures).
# test/deploy/dockerfile_test.go checks it against go.mod and the code.
#
#   docker build --build-arg VERSION=v1.2.3 -t slapipe .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -tags nodemo -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/slapipe ./cmd/slapipe

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/slapipe /usr/local/bin/slapipe
USER nonroot
# gRPC of slamanager and dataretrieval, and /metrics as docker-compose.yml sets it.
EXPOSE 50051 50052 9400
ENTRYPOINT ["/usr/local/bin/slapipe"]
