# syntax=docker/dockerfile:1

# rostermirror image: both commands, `rostermirror` (the server, its migrations and one-off syncs) and
# `cleversim` (the Clever API simulator), plus the bundled demo district for the simulator.
#
#   docker build -t rostermirror .
#   docker run --rm -p 8080:8080 -e ROSTERMIRROR_DATABASE_URL=postgres://… -e ROSTERMIRROR_SECRET_KEY=… rostermirror
#
# docker-compose.yml runs the whole stack (Postgres, simulator, migrations, server).

# --- build -------------------------------------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first, so source edits do not invalidate the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# CGO_ENABLED=0: the SQLite driver (modernc.org/sqlite) is pure Go, so the binaries are static and run
# on a distroless base without libc.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/rostermirror ./cmd/cleversim

# The working directory of the runtime image, where the default SQLite database (file:rostermirror.db)
# is created; distroless has no shell to make it, so it is made here and copied with its owner.
RUN mkdir -p /out/data

# --- runtime -----------------------------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/rostermirror /out/cleversim /usr/local/bin/
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY testdata/demo-district.json /usr/share/rostermirror/demo-district.json

# Never root: distroless's nonroot user (uid 65532).
USER nonroot:nonroot
WORKDIR /data
ENV ROSTERMIRROR_ADDR=:8080
EXPOSE 8080

ENTRYPOINT ["/usr/local/bin/rostermirror"]
CMD ["serve"]
