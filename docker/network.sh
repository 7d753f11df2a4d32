#!/usr/bin/env bash
# Runs the credex channel on a real Fabric 2.5 network.
#   ./network.sh up        crypto material, channel genesis block, orderers and peers, channel joined
#   ./network.sh deploy    the credex chaincode as a service on every peer (lifecycle: install,
#                          approve by each org, commit under MAJORITY), then the gateways
#   ./network.sh down      stop everything and delete the generated material
# Needs: docker compose, and the Fabric binaries (cryptogen, configtxgen, osnadmin, peer) on the
# PATH. FABRIC_MODE=binaries runs orderers and peers as local processes instead of containers,
# from the same configuration (needs orderer and peer on the PATH too).
set -euo pipefail
cd "$(dirname "$0")"
export FABRIC_CFG_PATH=$PWD
MODE=${FABRIC_MODE:-docker}
CHANNEL=credex
CC_NAME=credex
CC_VERSION=${CC_VERSION:-1.0}
CC_SEQUENCE=${CC_SEQUENCE:-1}
ORGS=(gov:GovMSP:7051 bank:BankMSP:8051 core:CoreMSP:9051 audit:AuditMSP:10051)
ORDERER_CA=$PWD/crypto/ordererOrganizations/orderer.credex.local/tlsca/tlsca.orderer.credex.local-cert.pem
ORDERER=localhost:7050

need() { command -v "$1" >/dev/null || { echo "network.sh: '$1' is not on the PATH" >&2; exit 2; }; }

peer_env() { # org dom, msp, port → env for the peer CLI as that org's admin
  local dom=$1 msp=$2 port=$3 base=$PWD/crypto/peerOrganizations/$1.credex.local
  export CORE_PEER_TLS_ENABLED=true CORE_PEER_LOCALMSPID=$msp
  export CORE_PEER_TLS_ROOTCERT_FILE=$base/tlsca/tlsca.$dom.credex.local-cert.pem
  export CORE_PEER_MSPCONFIGPATH=$base/users/Admin@$dom.credex.local/msp
  export CORE_PEER_ADDRESS=localhost:$port
}

up() {
  need cryptogen; need configtxgen; need osnadmin; need peer
  [ -d crypto ] || cryptogen generate --config=crypto-config.yaml --output=crypto
  mkdir -p channel-artifacts
  configtxgen -profile CredexChannel -outputBlock channel-artifacts/$CHANNEL.block -channelID $CHANNEL
  if [ "$MODE" = docker ]; then
    docker compose up -d
  else
    need orderer
    ./binaries.sh start
  fi
  sleep 3
  for i in 0 1 2; do
    local d=$PWD/crypto/ordererOrganizations/orderer.credex.local/orderers/orderer$i.orderer.credex.local/tls
    osnadmin channel join --channelID $CHANNEL --config-block channel-artifacts/$CHANNEL.block \
      -o localhost:$((7053 + i * 1000)) --ca-file "$ORDERER_CA" --client-cert $d/server.crt --client-key $d/server.key
  done
  for o in "${ORGS[@]}"; do
    IFS=: read -r dom msp port <<<"$o"
    peer_env "$dom" "$msp" "$port"
    peer channel join -b channel-artifacts/$CHANNEL.block
  done
}

deploy() {
  need peer
  (cd .. && npm run build:chaincode)
  local pkg=channel-artifacts/$CC_NAME.tar.gz work
  work=$(mktemp -d)
  for o in "${ORGS[@]}"; do
    IFS=: read -r dom msp port <<<"$o"
    # chaincode as a service: the package only says where each org's chaincode container listens
    mkdir -p "$work/$dom"
    printf '{"address":"credex-cc.%s.credex.local:9999","dial_timeout":"10s","tls_required":false}' "$dom" >"$work/$dom/connection.json"
    printf '{"type":"ccaas","label":"%s_%s"}' "$CC_NAME" "$CC_VERSION" >"$work/$dom/metadata.json"
    tar -C "$work/$dom" -czf "$work/$dom/code.tar.gz" connection.json
    tar -C "$work/$dom" -czf "$work/$dom.tar.gz" metadata.json code.tar.gz
    peer_env "$dom" "$msp" "$port"
    peer lifecycle chaincode install "$work/$dom.tar.gz"
    local id
    id=$(peer lifecycle chaincode calculatepackageid "$work/$dom.tar.gz")
    CREDEX_CC_PACKAGE_ID=$id docker compose --profile chaincode up -d "credex-cc.$dom.credex.local"
    peer lifecycle chaincode approveformyorg -o $ORDERER --ordererTLSHostnameOverride orderer0.orderer.credex.local \
      --tls --cafile "$ORDERER_CA" --channelID $CHANNEL --name $CC_NAME --version "$CC_VERSION" \
      --package-id "$id" --sequence "$CC_SEQUENCE"
  done
  cp "$work/gov.tar.gz" "$pkg"
  local peers=()
  for o in "${ORGS[@]}"; do
    IFS=: read -r dom msp port <<<"$o"
    peers+=(--peerAddresses "localhost:$port" --tlsRootCertFiles "$PWD/crypto/peerOrganizations/$dom.credex.local/tlsca/tlsca.$dom.credex.local-cert.pem")
  done
  peer_env gov GovMSP 7051
  peer lifecycle chaincode commit -o $ORDERER --ordererTLSHostnameOverride orderer0.orderer.credex.local \
    --tls --cafile "$ORDERER_CA" --channelID $CHANNEL --name $CC_NAME --version "$CC_VERSION" \
    --sequence "$CC_SEQUENCE" "${peers[@]}"
  if [ "$MODE" = docker ]; then
    gateway_configs
    docker compose --profile gateways up -d
  fi
  rm -rf "$work"
}

gateway_configs() { # one config per org, each with a fresh staff token, for compose.yaml's gateways
  mkdir -p gateway-config
  for o in "${ORGS[@]}"; do
    IFS=: read -r dom msp port <<<"$o"
    local base=/crypto/peerOrganizations/$dom.credex.local user=User1@$dom.credex.local
    [ -f "gateway-config/$dom.json" ] && continue
    cat >"gateway-config/$dom.json" <<JSON
{
  "mspId": "$msp",
  "port": 3000,
  "dataDir": "/data",
  "publicUrl": "http://gateway.$dom.credex.local:3000",
  "staffTokens": ["$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"],
  "ledger": {
    "peerEndpoint": "peer0.$dom.credex.local:$port",
    "hostnameOverride": "peer0.$dom.credex.local",
    "tlsCaCertPath": "$base/tlsca/tlsca.$dom.credex.local-cert.pem",
    "certPath": "$base/users/$user/msp/signcerts/$user-cert.pem",
    "keyPath": "$base/users/$user/msp/keystore/priv_sk"
  }
}
JSON
    chmod 600 "gateway-config/$dom.json"
  done
}

down() {
  [ "$MODE" = docker ] && docker compose --profile chaincode --profile gateways down -v || true
  [ "$MODE" = binaries ] && ./binaries.sh stop || true
  rm -rf crypto channel-artifacts gateway-config
}

case "${1:-}" in
  up) up ;;
  deploy) deploy ;;
  down) down ;;
  *) echo "usage: $0 up|deploy|down" >&2; exit 2 ;;
esac
