# ovn-k8s image: the watcher (ENTRYPOINT) plus ovn-k8s-util and the node tools.
# Build:  docker build -t ovn-k8s:dev .
# Without a container engine, scripts/docker-build-steps.sh runs these same instructions in a
# temporary directory (so keep RUN lines relative to WORKDIR and one instruction per line).

# ---- build: compile TypeScript with the dev toolchain ------------------------------------------
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install` from the lock rather than `npm ci`: the lock is made against a registry mirror that
# lacks some of rollup's platform packages (a dev-only dependency), and `npm ci` rejects such a
# lock as out of sync; `npm install` installs exactly the locked versions.
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- deps: production dependencies only -----------------------------------------------------
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime --------------------------------------------------------------------------------
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
RUN chmod 0755 dist/cli/ovn-k8s-watcher.js dist/cli/ovn-k8s-util.js dist/cli/ovn-k8s-overlay.js dist/cli/ovn-k8s-cni-overlay.js dist/cli/ovn-k8s-ipam.js
RUN mkdir -p bin && ln -s ../dist/cli/ovn-k8s-watcher.js bin/ovn-k8s-watcher && ln -s ../dist/cli/ovn-k8s-util.js bin/ovn-k8s-util && ln -s ../dist/cli/ovn-k8s-overlay.js bin/ovn-k8s-overlay && ln -s ../dist/cli/ovn-k8s-cni-overlay.js bin/ovn-k8s-cni-overlay && ln -s ../dist/cli/ovn-k8s-ipam.js bin/ovn-k8s-ipam
ENV PATH=/app/bin:$PATH
# The watcher needs no privileges: it talks to the NB database over TCP/TLS and to the API server.
# Node-side roles (ovn-k8s-overlay, the CNI plugin) need root and override this with
# securityContext.runAsUser: 0 in their DaemonSet.
USER 10001:10001
EXPOSE 9410
STOPSIGNAL SIGTERM
ENTRYPOINT ["ovn-k8s-watcher"]
CMD ["--overlay"]
