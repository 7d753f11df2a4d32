# One credex gateway (Fastify + LevelDB); configuration from $CREDEX_GATEWAY_CONFIG
# (written by network.sh deploy into docker/gateway-config/, mounted at /config).
FROM node:20-bookworm-slim
WORKDIR /credex
COPY . .
# The gateway runs from source with tsx; it needs no chaincode build.
RUN npm ci
EXPOSE 3000
CMD ["npx", "tsx", "gateway/src/server.ts"]
