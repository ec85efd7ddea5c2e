# syntax=docker/dockerfile:1.7
#
# peerfetch registrar — multi-arch image (linux/amd64, linux/arm64, linux/arm/v7), serving
# the built console at / as well as the API.
#
#   docker buildx build -f docker/registrar.Dockerfile \
#     --platform linux/amd64,linux/arm64,linux/arm/v7 -t peerfetch/registrar .
#
#   docker run -d --name registrar -p 8790:8790 -p 18830:18830 \
#     -e MQTT_PUBLIC_URL=mqtt://registrar.example:18830 \
#     -v registrar-data:/data peerfetch/registrar          # embedded PGlite + broker
#
# With PostgreSQL and Mosquitto: docker/compose.yml and docs/operations.md ("Deployment
# with Docker Compose").
#
# Stages:
#   build   (build platform) libs/crypto, the registrar (its `prebuild` runs `prisma
#           generate`: offline, WebAssembly engine) and the console (app + standalone
#           dist/peerfetch.js). Nothing here is native to the target: it all runs on Node.
#   deps    (target platform) production node_modules of the registrar. The one native
#           module, argon2, ships prebuilds for linux x64, arm64 and arm (armv7, glibc);
#           the RUN below fails the build if it does not load on the target.
#   runtime (target platform) node + tini, non-root user, /data volume (mode 0700)
#
# The start command (this env, the HEALTHCHECK, SIGTERM → exit 0) is tested as a process in
# apps/registrar/test/dockerfile.spec.ts, which also keeps this file and the repository in
# step.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /src
# every workspace manifest: npm ci checks the whole lock file against them
COPY package.json package-lock.json tsconfig.base.json ./
COPY libs/crypto/package.json libs/crypto/
COPY libs/peer-http/package.json libs/peer-http/
COPY apps/edge-agent/package.json apps/edge-agent/
COPY apps/registrar/package.json apps/registrar/
COPY apps/console/package.json apps/console/
RUN npm ci --ignore-scripts --no-audit --no-fund \
      --include-workspace-root \
      -w @peerfetch/crypto -w @peerfetch/peer-http -w @peerfetch/registrar -w @peerfetch/console
COPY prisma/ prisma/
COPY libs/crypto/ libs/crypto/
COPY libs/peer-http/ libs/peer-http/
COPY apps/registrar/ apps/registrar/
COPY apps/console/ apps/console/
ENV CHECKPOINT_DISABLE=1
RUN npx tsc -p libs/crypto/tsconfig.lib.json \
 && npm run build -w @peerfetch/registrar \
 && npm run build -w @peerfetch/console

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/crypto/package.json libs/crypto/
COPY libs/peer-http/package.json libs/peer-http/
COPY apps/edge-agent/package.json apps/edge-agent/
COPY apps/registrar/package.json apps/registrar/
COPY apps/console/package.json apps/console/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w @peerfetch/registrar \
 && node -e "import('argon2').then(async (a) => { await a.hash('x'); console.log('argon2 OK on', process.arch) })"

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 registrar \
 && useradd --system --uid 10001 --gid registrar --home-dir /data --shell /usr/sbin/nologin registrar \
 && mkdir -p /data \
 && chown registrar:registrar /data \
 && chmod 0700 /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY --from=build /src/libs/crypto/package.json libs/crypto/package.json
COPY --from=build /src/libs/crypto/dist libs/crypto/dist
COPY --from=build /src/apps/registrar/package.json apps/registrar/package.json
COPY --from=build /src/apps/registrar/dist apps/registrar/dist
COPY --from=build /src/prisma/migrations prisma/migrations
COPY --from=build /src/apps/console/dist console

# MIGRATIONS_DIR is also what dist/config/config.js resolves by default in this layout.
# MQTT_HOST: the embedded broker (used when MQTT_URL is unset) listens on every interface.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8790 \
    MQTT_HOST=0.0.0.0 \
    DATA_DIR=/data \
    MIGRATIONS_DIR=/app/prisma/migrations \
    CONSOLE_DIR=/app/console \
    LOG_LEVEL=info
VOLUME ["/data"]
EXPOSE 8790 18830
USER 10001:10001

# healthy = ready: the database answers and the registrar's MQTT client is connected
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8790)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# tini reaps zombies and forwards SIGTERM; the registrar then closes HTTP, flushes the
# audit buffer, closes the database and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/apps/registrar/dist/main.js"]
