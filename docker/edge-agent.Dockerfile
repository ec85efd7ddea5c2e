# syntax=docker/dockerfile:1.7
#
# peerfetch edge agent — multi-arch image (linux/amd64, linux/arm64, linux/arm/v7).
#
#   docker buildx build -f docker/edge-agent.Dockerfile \
#     --platform linux/amd64,linux/arm64,linux/arm/v7 -t peerfetch/edge-agent .
#
#   docker run -d --name edge-agent --network host \
#     -e REGISTRAR_URL=https://registrar.example -e CLAIM_CODE=XXXX-XXXX \
#     -e UPSTREAM_ORIGINS=http://127.0.0.1:8778 \
#     -v edge-agent-data:/data -v /var/lib/camera/clips:/clips:ro peerfetch/edge-agent
#
# Stages:
#   build   (build platform) TypeScript → dist for the agent and the libs it uses
#   deps    (target platform) production node_modules; node-datachannel comes as a prebuilt
#           optional package on amd64/arm64; on arm/v7 (no prebuilt) it is compiled here
#           with cmake-js + cmake + g++ (the toolchain stays in this stage)
#   runtime (target platform) node + tini, non-root user, /data and /clips volumes
#
# The start command (`edge-agent run` with this env, SIGTERM → graceful stop) is tested as
# a process in apps/edge-agent/test/cli.spec.ts; test/dockerfile.spec.ts keeps this file and
# that test in step.

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
      -w @peerfetch/crypto -w @peerfetch/peer-http -w @peerfetch/edge-agent
COPY libs/crypto/ libs/crypto/
COPY libs/peer-http/ libs/peer-http/
COPY apps/edge-agent/ apps/edge-agent/
RUN npx tsc -p libs/crypto/tsconfig.lib.json \
 && npx tsc -p libs/peer-http/tsconfig.lib.json \
 && npx tsc -p apps/edge-agent/tsconfig.lib.json

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
ARG TARGETARCH
ARG TARGETVARIANT
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/crypto/package.json libs/crypto/
COPY libs/peer-http/package.json libs/peer-http/
COPY apps/edge-agent/package.json apps/edge-agent/
COPY apps/registrar/package.json apps/registrar/
COPY apps/console/package.json apps/console/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w @peerfetch/edge-agent
# arm/v7: node-datachannel ships no 32-bit ARM binary; build libdatachannel + the addon.
RUN if [ "$TARGETARCH" = "arm" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends cmake g++ make python3 git ca-certificates libssl-dev \
      && cd node_modules/node-datachannel \
      && npm install --no-save --ignore-scripts --no-audit --no-fund cmake-js node-addon-api node-api-headers \
      && npx cmake-js build \
      && rm -rf build/_deps build/CMakeFiles node_modules/cmake-js; \
    fi \
 && node -e "import('node-datachannel').then(m => { m.cleanup(); console.log('node-datachannel OK on', process.arch) })"

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 agent \
 && useradd --system --uid 10001 --gid agent --home-dir /data --shell /usr/sbin/nologin agent \
 && mkdir -p /data /clips \
 && chown agent:agent /data /clips \
 && chmod 0700 /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY --from=build /src/libs/crypto/package.json libs/crypto/package.json
COPY --from=build /src/libs/crypto/dist libs/crypto/dist
COPY --from=build /src/libs/peer-http/package.json libs/peer-http/package.json
COPY --from=build /src/libs/peer-http/dist libs/peer-http/dist
COPY --from=build /src/apps/edge-agent/package.json apps/edge-agent/package.json
COPY --from=build /src/apps/edge-agent/dist apps/edge-agent/dist
COPY --from=build /src/apps/edge-agent/assets apps/edge-agent/assets
RUN ln -s /app/apps/edge-agent/dist/cli.js /usr/local/bin/edge-agent \
 && chmod 0755 /app/apps/edge-agent/dist/cli.js

ENV NODE_ENV=production \
    DATA_DIR=/data \
    CLIPS_DIR=/clips \
    LOG_LEVEL=info
VOLUME ["/data", "/clips"]
USER 10001:10001

# healthy = `run` refreshed /data/agent-state.json recently and is not stopped
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "/app/apps/edge-agent/dist/cli.js", "status", "--health"]

# tini reaps zombies and forwards SIGTERM; `run` then closes sessions, publishes the
# retained offline status and exits 0 (8 s hard cap, under docker's 10 s grace period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/apps/edge-agent/dist/cli.js"]
CMD ["run"]
