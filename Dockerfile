# syntax=docker/dockerfile:1
# stockwatch container: `docker build -t stockwatch .`, then `docker run --env-file .env stockwatch`
# (or `docker compose up`, see docker-compose.yml). The default command is `run` (the daemon);
# any other command works too, e.g. `docker run --rm -v "$PWD/rules:/app/rules:ro" stockwatch check`.

# ---- build: compile TypeScript, bundle the CLI, then drop the dev dependencies ------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: plain `npm ci` would run the package's `prepare` script (= the build) before
# the sources are copied, and fail. Installing without scripts also keeps this layer cached
# across source edits; no dependency needs its install script (prebuilt binaries are optional
# packages, see "allowScripts" in package.json). The build runs explicitly once sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: production dependencies and the compiled code only, as a non-root user --------
FROM node:20-bookworm-slim AS runtime
# HTTP_HOST: inside a container, 127.0.0.1 is unreachable from outside; put HTTP_AUTH on it in production.
ENV NODE_ENV=production HTTP_PORT=9464 HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY rules ./rules
COPY fixtures ./fixtures
# The files stay root-owned and read-only to the process; stockwatch writes nothing to disk but
# its compiled-code cache in /tmp (STOCKWATCH_COMPILE_CACHE; its state is in Redis).
USER node
EXPOSE 9464
# Slim images have no curl: node itself asks /healthz (200 while Redis answers, the last poll
# succeeded and one succeeded within 3 poll intervals; open even with HTTP_AUTH). With HTTP_PORT=0
# (HTTP off), or HTTP_HOST set to an address other than 0.0.0.0/127.0.0.1, this check fails: disable it then.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=process.env.HTTP_PORT||'9464';require('http').get({host:'127.0.0.1',port:p,path:'/healthz',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/stockwatch.js"]
CMD ["run"]
