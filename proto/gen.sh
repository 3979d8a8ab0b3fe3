#!/usr/bin/env bash
# Regenerates the Go code from the .proto files. Needs protoc (Debian's
# protobuf-compiler and libprotobuf-dev) and the Go plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
set -euo pipefail
cd "$(dirname "$0")"
PATH=$PATH:$(go env GOPATH)/bin
protoc -I . --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  slapipe/v1/*.proto
