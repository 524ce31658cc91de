# syntax=docker/dockerfile:1
#
# alphalake's image: one image for every role (`serve --role api`, `sink`, `speed`,
# `ingest`); docker-compose.yml picks the role with the command. Debian (glibc), not
# Alpine: DuckDB's prebuilt Node bindings are built for glibc.
#
#   docker build -t alphalake .
#   docker run --rm -p 4000:4000 alphalake            # the embedded profile, every role
#   docker run --rm alphalake lake --help             # any other `alphalake` command

ARG NODE_IMAGE=node:22-bookworm-slim

# Build: all dependencies, then TypeScript → dist/. Tests and benchmarks stay out
# (.dockerignore), so only src/ is compiled.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# Production dependencies only, installed apart so the runtime stage copies no compiler.
# --ignore-scripts: `prepare` would compile again; no runtime dependency needs an
# install script (native parts such as DuckDB's come as prebuilt platform packages).
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    ALPHALAKE_HOME=/var/lib/alphalake
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
# `alphalake` on the PATH for `docker compose exec api alphalake lake history …`; the
# data folder (lake when LAKE_URI is empty, S3 object cache) belongs to the runtime user.
RUN chmod 755 dist/src/cli/main.js \
    && ln -s /app/dist/src/cli/main.js /usr/local/bin/alphalake \
    && mkdir -p /var/lib/alphalake \
    && chown node:node /var/lib/alphalake
# The official Node image's unprivileged user (uid 1000).
USER node
EXPOSE 4000
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
