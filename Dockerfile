# Multi-stage build of the one slapipe binary into a small image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/slapipe ./cmd/slapipe

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/slapipe /usr/local/bin/slapipe
USER nonroot
ENTRYPOINT ["/usr/local/bin/slapipe"]
