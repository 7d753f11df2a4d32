/**
 * `startSimNetwork`: a channel with one peer per organization and one ordering service in this
 * process. Each peer has its own identity, TLS endpoint and chaincode process; all of them
 * commit the same blocks, so they share one ledger.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { gateway, peer as peerProtos } from '@hyperledger/fabric-protos';
import { createSimChannel, type SimChannel } from './channel';
import { createChaincodeRuntime } from './chaincode';
import type { ChaincodeRuntime } from './chaincode/types';
import { createCommitFeed } from './commits';
import { createCachedState } from './state-cache';
import { resolveSimOptions, type ResolvedSimOptions, type SimNetworkOptions } from './config';
import { createDeliverService } from './deliver';
import { createGatewayService, toServiceError } from './gateway-service';
import { genesisBlock } from './genesis';
import { openLedger, type Ledger } from './ledger/ledger';
import { defaultDomain, ensureOrdererMaterial, ensureOrgMaterial, type Identity, type OrgMaterial } from './msp/material';
import { createMspRegistry } from './msp/msp';
import { createOrderer, type Orderer } from './orderer';
import { createSimPeer, ProposalRejectedError, type SimPeer } from './peer';
import { parsePolicy } from './policy';
import { createSignatureMemo } from './validator';
import { writeConnectionProfile } from './profile';

/** What a client of one organization needs to connect (docs/CONTRACTS.md "node-sim"). */
export interface SimOrg {
  mspId: string;
  /** `127.0.0.1:<port>` of the organization's peer. */
  peerEndpoint: string;
  /** PEM of the CA that issued the peer's TLS certificate. */
  tlsCaCertPem: string;
  /** TLS server name of the peer (`peer0.<domain>`), for `grpc.ssl_target_name_override`. */
  hostnameOverride: string;
  identities: { admin: Identity; client: Identity };
}

/** A running network. */
export interface SimNetwork {
  orgs: Map<string, SimOrg>;
  channel: string;
  chaincodeName: string;
  dataDir: string;
  tls: boolean;
  /** Path of the organization's connection profile JSON. */
  connectionProfilePath(mspId: string): string;
  /** Stops accepting calls, cuts and commits pending transactions, stops the chaincodes, closes the ledger. */
  stop(): Promise<void>;
}

interface Running {
  servers: grpc.Server[];
  runtimes: ChaincodeRuntime[];
  orderer?: Orderer;
  ledger?: Ledger;
  closeFeed?: () => void;
}

/** Starts a network in `options.dataDir` (crypto material and ledger are created on first start, reused after). */
export async function startSimNetwork(options: SimNetworkOptions): Promise<SimNetwork> {
  const opts = resolveSimOptions(options);
  await mkdir(opts.dataDir, { recursive: true });
  const running: Running = { servers: [], runtimes: [] };
  try {
    return await start(opts, running);
  } catch (err) {
    await shutdown(running);
    throw err;
  }
}

async function start(opts: ResolvedSimOptions, running: Running): Promise<SimNetwork> {
  // Chaincode processes take the longest to boot; they need nothing else, so they go first.
  const runtimes = new Map<string, ChaincodeRuntime>();
  for (const mspId of opts.orgs) {
    const runtime = createChaincodeRuntime({
      chaincodeName: opts.chaincode.name,
      chaincodeVersion: opts.chaincode.version,
      chaincodeDir: opts.chaincode.dir,
      peerName: `peer0.${defaultDomain(mspId)}`,
      mspId,
    });
    runtimes.set(mspId, runtime);
    running.runtimes.push(runtime);
  }
  const chaincodesReady = Promise.all(running.runtimes.map((r) => r.start()));
  // Awaited below; a failure before then must not go unhandled.
  chaincodesReady.catch(() => undefined);

  const [ordererOrg, ...orgMaterial] = await Promise.all([
    ensureOrdererMaterial(opts.dataDir),
    ...opts.orgs.map((mspId) => ensureOrgMaterial(opts.dataDir, mspId)),
  ]);
  const materials = new Map(orgMaterial.map((m) => [m.mspId, m]));
  const msp = createMspRegistry(orgMaterial.map((m) => ({ mspId: m.mspId, caCertPem: m.caCertPem })));
  const policy = parsePolicy(opts.chaincode.endorsementPolicy, opts.orgs);

  const ledger = await openLedger(path.join(opts.dataDir, 'ledger'), {
    channelId: opts.channel,
    genesis: () =>
      genesisBlock({
        channelId: opts.channel,
        orgs: orgMaterial,
        orderer: ordererOrg,
        maxMessageCount: opts.batch.maxMessageCount,
        batchTimeoutMs: opts.batch.batchTimeoutMs,
      }),
  });
  running.ledger = ledger;
  // The cache must forget a block's writes before anyone hears that the block committed.
  const state = createCachedState(ledger);
  const commits = createCommitFeed(ledger);
  running.closeFeed = () => {
    commits.close();
    state.close();
  };
  // The peers' endorsement signatures, made here: the validator need not verify them again.
  const ownSignatures = createSignatureMemo();
  const orderer = createOrderer({
    ledger,
    msp,
    ownSignatures,
    policies: (chaincodeName) => {
      if (chaincodeName !== opts.chaincode.name) throw new Error(`chaincode ${chaincodeName} is not defined on channel ${opts.channel}`);
      return policy;
    },
    maxMessageCount: opts.batch.maxMessageCount,
    batchTimeoutMs: opts.batch.batchTimeoutMs,
    signer: ordererOrg.peer,
  });
  running.orderer = orderer;
  const channel = createSimChannel({
    id: opts.channel,
    orgs: opts.orgs,
    chaincodeName: opts.chaincode.name,
    chaincodeVersion: opts.chaincode.version,
    policy,
    ledger,
    state,
    msp,
    orderer,
    commits,
  });

  const peers = new Map<string, SimPeer>();
  for (const material of orgMaterial) {
    const runtime = runtimes.get(material.mspId) as ChaincodeRuntime;
    peers.set(material.mspId, createSimPeer({ mspId: material.mspId, name: material.nodeHost, identity: material.peer, runtime, channel, ownSignatures }));
  }

  // Chaincode processes start in parallel with the gRPC servers.
  const [endpoints] = await Promise.all([
    Promise.all(
      [...peers.values()].map(async (p) => {
        const material = materials.get(p.mspId) as OrgMaterial;
        const server = createPeerServer(p, peers, channel);
        running.servers.push(server);
        p.endpoint = await listen(server, opts, material);
        return p.endpoint;
      }),
    ),
    chaincodesReady,
  ]);

  const profilePaths = new Map<string, string>();
  const orgs = new Map<string, SimOrg>();
  await Promise.all(
    orgMaterial.map(async (material, i) => {
      const endpoint = endpoints[i] ?? '';
      profilePaths.set(material.mspId, await writeConnectionProfile(opts.dataDir, material, endpoint, {
          channel: opts.channel,
          chaincode: opts.chaincode.name,
          tls: opts.tls,
        }));
      orgs.set(material.mspId, {
        mspId: material.mspId,
        peerEndpoint: endpoint,
        tlsCaCertPem: material.tlsCaCertPem,
        hostnameOverride: material.nodeHost,
        identities: { admin: material.admin, client: material.client },
      });
    }),
  );
  opts.log(`node-sim: channel ${opts.channel} at height ${ledger.height()}, ${orgs.size} peers`);

  let stopping: Promise<void> | undefined;
  return {
    orgs: new Map(opts.orgs.map((mspId) => [mspId, orgs.get(mspId) as SimOrg])),
    channel: opts.channel,
    chaincodeName: opts.chaincode.name,
    dataDir: opts.dataDir,
    tls: opts.tls,
    connectionProfilePath: (mspId) => {
      const p = profilePaths.get(mspId);
      if (p === undefined) throw new Error(`ORG_UNKNOWN: ${mspId} is not an organization of this network`);
      return p;
    },
    stop: () => (stopping ??= shutdown(running)),
  };
}

function createPeerServer(p: SimPeer, peers: ReadonlyMap<string, SimPeer>, channel: SimChannel): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc.max_send_message_length': 100 * 1024 * 1024,
    // No channelz service is served, so its per-call and per-message bookkeeping is waste.
    'grpc.enable_channelz': 0,
  });
  server.addService(anyCopySerializers(gateway.GatewayService), createGatewayService({ local: p, peers, channel }));
  server.addService(anyCopySerializers(peerProtos.DeliverService), createDeliverService(channel));
  server.addService(anyCopySerializers(peerProtos.EndorserService), {
    processProposal: (
      call: grpc.ServerUnaryCall<peerProtos.SignedProposal, peerProtos.ProposalResponse>,
      callback: grpc.sendUnaryData<peerProtos.ProposalResponse>,
    ) => {
      p.processProposal(call.request).then(
        (response) => {
          callback(null, response);
        },
        (err: unknown) => {
          callback(toServiceError(err instanceof ProposalRejectedError ? Object.assign(err, { code: grpc.status.UNKNOWN }) : err));
        },
      );
    },
  });
  return server;
}

/**
 * The generated service definitions refuse to serialize a message unless it is an instance of
 * their own copy of the class. google-protobuf registers classes in a global namespace, so
 * when a second copy of @hyperledger/fabric-protos is loaded in the same process (the
 * fabric-gateway client bundles its own, e.g. in tests or an app that embeds node-sim) the
 * classes mix; serializing by the message's own method works for any copy.
 */
function anyCopySerializers(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const serialize = (message: { serializeBinary(): Uint8Array }): Buffer => Buffer.from(message.serializeBinary());
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => [name, { ...method, requestSerialize: serialize, responseSerialize: serialize }]),
  );
}

function listen(server: grpc.Server, opts: ResolvedSimOptions, material: OrgMaterial): Promise<string> {
  const credentials = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(material.peerTls.certPem), private_key: Buffer.from(material.peerTls.keyPem) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const port = opts.ports[material.mspId] ?? 0;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${opts.host}:${port}`, credentials, (err, bound) => {
      if (err !== null) reject(new Error(`SIM_LISTEN_FAILED: ${material.mspId} cannot listen on ${opts.host}:${port}: ${err.message}`));
      else resolve(`${opts.host}:${bound}`);
    });
  });
}

async function shutdown(running: Running): Promise<void> {
  // Refuse new calls while the orderer commits what it already accepted.
  const closing = running.servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          resolve();
        });
      }),
  );
  const errors: unknown[] = [];
  try {
    await running.orderer?.stop();
  } catch (err) {
    errors.push(err);
  }
  running.closeFeed?.();
  // Streams (events, deliver) never end by themselves.
  for (const server of running.servers) server.forceShutdown();
  await Promise.all(closing);
  const stopped = await Promise.allSettled(running.runtimes.map((r) => r.stop()));
  for (const s of stopped) if (s.status === 'rejected') errors.push(s.reason);
  try {
    await running.ledger?.close();
  } catch (err) {
    errors.push(err);
  }
  if (errors.length > 0) throw new AggregateError(errors, 'SIM_STOP_FAILED: node-sim did not stop cleanly');
}
