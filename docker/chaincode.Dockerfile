# The credex chaincode as a service (Fabric's ccaas builder). The same package a peer would
# build with the node builder: its folder alone, `npm ci --omit=dev`, then the shim's server mode.
FROM node:20-bookworm-slim
WORKDIR /chaincode
COPY chaincode/package.json chaincode/package-lock.json ./
RUN npm ci --omit=dev
COPY chaincode/dist ./dist
USER node
CMD ["sh", "-c", "exec npx fabric-chaincode-node server --chaincode-address=$CHAINCODE_SERVER_ADDRESS --chaincode-id=$CHAINCODE_ID"]
