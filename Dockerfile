# syntax=docker/dockerfile:1
# The chatbot server: built with the toolchain in one stage, run without it (and without dev
# dependencies, compilers or npm in the command line) in the next.
#   docker build -t wallet-unbind-bot .
#   docker run -p 3000:3000 -v wallet-bot-data:/data wallet-unbind-bot

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 installs a prebuilt binary; where none fits it compiles, which needs these.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The lockfile alone first: the install layer is reused until dependencies change. The image's npm
# (10 with Node 20) ignores package.json's allowScripts and runs every install script; that works
# here because this stage installs the dev dependencies, rimraf among them, which botbuilder-dialogs'
# postinstall calls. The runtime stage installs nothing.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/chatbot.db
WORKDIR /app
# The application is root's and read-only to the server; only the data volume is the server's.
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# node's own fetch: the slim image has no curl. /healthz answers 503 when the database refuses writes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, not npm: SIGTERM from `docker stop` reaches the server, which finishes in-flight
# requests and closes the database (main.ts). The image's dist/ is its sources' build, so the
# staleness check of `npm start` has nothing to do here.
CMD ["node", "--enable-source-maps", "dist/server/main.js"]
