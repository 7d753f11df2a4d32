# One credex gateway (Fastify + LevelDB); configuration from $CREDEX_CONFIG.
FROM node:20-bookworm-slim
WORKDIR /credex
COPY . .
RUN npm ci && npm run build:chaincode
ENV CREDEX_DATA_DIR=/data
EXPOSE 3000
CMD ["npx", "tsx", "gateway/src/server.ts"]
