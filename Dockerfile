# Vitals container image. Build it with scripts/container/build-image.sh (podman, --format docker so
# that HEALTHCHECK is kept, --pull=never): both FROM images are made locally, without a registry —
# the base by debootstrap (scripts/container/make-base-image.sh), the Node 20 toolchain from the
# build machine's Node (scripts/container/make-toolchain-image.sh). Where a registry is reachable,
# stock images work too: --build-arg BASE_IMAGE=debian:bookworm-slim
# --build-arg TOOLCHAIN_IMAGE=node:20-bookworm-slim (.github/workflows/build-and-push.yml).
ARG BASE_IMAGE=localhost/vitals-base:bookworm
ARG TOOLCHAIN_IMAGE=localhost/vitals-toolchain:node20

FROM ${TOOLCHAIN_IMAGE} AS toolchain

# ---- build: compilers, dev dependencies, tsc (and the dashboard when web/ has one) -------------
FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
# better-sqlite3 compiles from source (its prebuilt binaries are on GitHub, not the npm registry).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY --from=toolchain /usr/local/ /usr/local/
ENV npm_config_nodedir=/usr/local \
    npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# The local toolchain image carries the build machine's CA bundle (egress may be TLS-intercepted);
# a stock node image has none and npm keeps its defaults.
RUN if [ -f /usr/local/share/vitals-build/ca-certificates.crt ]; then \
      npm config set --location=global cafile /usr/local/share/vitals-build/ca-certificates.crt; \
    fi
WORKDIR /src
# Dependencies first, so that a change to the sources reuses this (slow) layer.
# .npmrc carries onnxruntime-node-install=skip: its CUDA download cannot succeed and is not needed.
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
# onnxruntime-node ships every platform's binaries; the image keeps linux/x64 only (-240 MB).
RUN npm run build \
 && if node -e 'process.exit(require("./package.json").scripts["build:web"] ? 0 : 1)'; then npm run build:web; fi \
 && npm prune --omit=dev \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -path '*/linux' -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d -path '*/linux/*' ! -name x64 -exec rm -rf {} + \
 && mkdir -p /out/app \
 && cp -a package.json dist bin data node_modules /out/app/ \
 && if [ -d web/dist ]; then mkdir -p /out/app/web && cp -a web/dist /out/app/web/; fi

# ---- runtime: Node, the built app, production dependencies; no compiler, no npm ---------------
FROM ${BASE_IMAGE} AS runtime
COPY --from=toolchain /usr/local/bin/node /usr/local/bin/node
# The debootstrapped base has tini and CA certificates already; a stock Debian image gets them here.
RUN if [ ! -x /usr/bin/tini ] || [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update && apt-get install -y --no-install-recommends tini ca-certificates && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 vitals \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/vitals --no-create-home --shell /usr/sbin/nologin vitals \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/vitals
# Root-owned and read-only to the service user: only the data volume is writable.
COPY --from=build /out/app /app
WORKDIR /app
ENV NODE_ENV=production \
    VITALS_HOME=/var/lib/vitals \
    HOST=0.0.0.0 \
    PORT=8000
# SQLite database, content-addressed artifacts, pipeline workspaces.
VOLUME ["/var/lib/vitals"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini is PID 1: it forwards SIGTERM to Node (which drains the prediction log and closes the
# database) and reaps zombies; Node as PID 1 would ignore signals it installs no handler for.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["serve"]
