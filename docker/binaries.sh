#!/usr/bin/env bash
# FABRIC_MODE=binaries: the same orderers and peers as compose.yaml, as local processes.
# Needs `orderer` and `peer` on the PATH and FABRIC_BIN_CFG pointing at the config/ folder of the
# Fabric release (core.yaml, orderer.yaml); each process's settings come from the environment,
# exactly as in compose.yaml, with paths mapped to this folder.
set -euo pipefail
cd "$(dirname "$0")"
RUN=$PWD/run; mkdir -p "$RUN"
CFG=${FABRIC_BIN_CFG:?FABRIC_BIN_CFG must point at the Fabric release config folder}
start() {
  for i in 0 1 2; do
    local h=orderer$i.orderer.credex.local p=$((7050 + i * 1000)) a=$((7053 + i * 1000))
    local d=$PWD/crypto/ordererOrganizations/orderer.credex.local/orderers/$h
    env FABRIC_CFG_PATH="$CFG" ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT=$p \
      ORDERER_GENERAL_LOCALMSPID=OrdererMSP ORDERER_GENERAL_LOCALMSPDIR=$d/msp \
      ORDERER_GENERAL_TLS_ENABLED=true ORDERER_GENERAL_TLS_PRIVATEKEY=$d/tls/server.key \
      ORDERER_GENERAL_TLS_CERTIFICATE=$d/tls/server.crt ORDERER_GENERAL_TLS_ROOTCAS="[$d/tls/ca.crt]" \
      ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE=$d/tls/server.crt ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY=$d/tls/server.key \
      ORDERER_GENERAL_CLUSTER_ROOTCAS="[$d/tls/ca.crt]" ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
      ORDERER_CHANNELPARTICIPATION_ENABLED=true ORDERER_ADMIN_TLS_ENABLED=true \
      ORDERER_ADMIN_TLS_CERTIFICATE=$d/tls/server.crt ORDERER_ADMIN_TLS_PRIVATEKEY=$d/tls/server.key \
      ORDERER_ADMIN_TLS_ROOTCAS="[$d/tls/ca.crt]" ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$d/tls/ca.crt]" \
      ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:$a ORDERER_FILELEDGER_LOCATION=$RUN/$h \
      ORDERER_CONSENSUS_WALDIR=$RUN/$h/wal ORDERER_CONSENSUS_SNAPDIR=$RUN/$h/snap \
      orderer >"$RUN/$h.log" 2>&1 &
    echo $! >"$RUN/$h.pid"
  done
  for o in gov:GovMSP:7051 bank:BankMSP:8051 core:CoreMSP:9051 audit:AuditMSP:10051; do
    IFS=: read -r dom msp port <<<"$o"
    local h=peer0.$dom.credex.local d=$PWD/crypto/peerOrganizations/$dom.credex.local/peers/peer0.$dom.credex.local
    env FABRIC_CFG_PATH="$CFG" CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_CERT_FILE=$d/tls/server.crt \
      CORE_PEER_TLS_KEY_FILE=$d/tls/server.key CORE_PEER_TLS_ROOTCERT_FILE=$d/tls/ca.crt \
      CORE_PEER_ID=$h CORE_PEER_ADDRESS=127.0.0.1:$port CORE_PEER_LISTENADDRESS=127.0.0.1:$port \
      CORE_PEER_CHAINCODEADDRESS=127.0.0.1:$((port + 1)) CORE_PEER_CHAINCODELISTENADDRESS=127.0.0.1:$((port + 1)) \
      CORE_PEER_GOSSIP_BOOTSTRAP=127.0.0.1:$port CORE_PEER_GOSSIP_EXTERNALENDPOINT=127.0.0.1:$port \
      CORE_PEER_LOCALMSPID=$msp CORE_PEER_MSPCONFIGPATH=$d/msp CORE_LEDGER_STATE_STATEDATABASE=goleveldb \
      CORE_PEER_FILESYSTEMPATH=$RUN/$h CORE_OPERATIONS_LISTENADDRESS=127.0.0.1:$((port + 2)) \
      peer node start >"$RUN/$h.log" 2>&1 &
    echo $! >"$RUN/$h.pid"
  done
}
stop() { for f in "$RUN"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; rm -rf "$RUN"; }
case "${1:-}" in start) start ;; stop) stop ;; *) echo "usage: $0 start|stop" >&2; exit 2 ;; esac
