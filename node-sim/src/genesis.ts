/**
 * Block 0 of the channel: a config block as configtxgen would write it, holding the
 * application organizations' MSPs (root and TLS root certificates, NodeOUs), the orderer
 * organization, and the orderer's batch settings, signed by the orderer.
 */
import { randomBytes } from 'node:crypto';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb';
import { common, msp, orderer } from '@hyperledger/fabric-protos';
import { blockDataHash } from './blocks';
import type { OrgMaterial } from './msp/material';
import { serializeIdentity, signDer } from './msp/msp';

export interface GenesisOptions {
  channelId: string;
  orgs: OrgMaterial[];
  orderer: OrgMaterial;
  maxMessageCount: number;
  batchTimeoutMs: number;
}

function value(bytes: Uint8Array, modPolicy = 'Admins'): common.ConfigValue {
  const v = new common.ConfigValue();
  v.setValue(bytes);
  v.setModPolicy(modPolicy);
  return v;
}

function ouIdentifier(caCertPem: string, ou: string): msp.FabricOUIdentifier {
  const id = new msp.FabricOUIdentifier();
  id.setCertificate(Buffer.from(caCertPem));
  id.setOrganizationalUnitIdentifier(ou);
  return id;
}

function mspValue(org: OrgMaterial): common.ConfigValue {
  const fabric = new msp.FabricMSPConfig();
  fabric.setName(org.mspId);
  fabric.setRootCertsList([Buffer.from(org.caCertPem)]);
  fabric.setTlsRootCertsList([Buffer.from(org.tlsCaCertPem)]);
  const crypto = new msp.FabricCryptoConfig();
  crypto.setSignatureHashFamily('SHA2');
  crypto.setIdentityIdentifierHashFunction('SHA256');
  fabric.setCryptoConfig(crypto);
  const nodeOus = new msp.FabricNodeOUs();
  nodeOus.setEnable(true);
  nodeOus.setClientOuIdentifier(ouIdentifier(org.caCertPem, 'client'));
  nodeOus.setPeerOuIdentifier(ouIdentifier(org.caCertPem, 'peer'));
  nodeOus.setAdminOuIdentifier(ouIdentifier(org.caCertPem, 'admin'));
  nodeOus.setOrdererOuIdentifier(ouIdentifier(org.caCertPem, 'orderer'));
  fabric.setFabricNodeOus(nodeOus);
  const config = new msp.MSPConfig();
  config.setType(0);
  config.setConfig(fabric.serializeBinary());
  return value(config.serializeBinary());
}

function orgGroup(org: OrgMaterial): common.ConfigGroup {
  const group = new common.ConfigGroup();
  group.setModPolicy('Admins');
  group.getValuesMap().set('MSP', mspValue(org));
  return group;
}

/** The genesis (config) block bytes of the channel. */
export function genesisBlock(opts: GenesisOptions): Uint8Array {
  const application = new common.ConfigGroup();
  application.setModPolicy('Admins');
  for (const org of opts.orgs) application.getGroupsMap().set(org.mspId, orgGroup(org));

  const ordererGroup = new common.ConfigGroup();
  ordererGroup.setModPolicy('Admins');
  ordererGroup.getGroupsMap().set(opts.orderer.mspId, orgGroup(opts.orderer));
  const batchSize = new orderer.BatchSize();
  batchSize.setMaxMessageCount(opts.maxMessageCount);
  batchSize.setAbsoluteMaxBytes(103_809_024);
  batchSize.setPreferredMaxBytes(524_288);
  ordererGroup.getValuesMap().set('BatchSize', value(batchSize.serializeBinary()));
  const batchTimeout = new orderer.BatchTimeout();
  batchTimeout.setTimeout(`${opts.batchTimeoutMs}ms`);
  ordererGroup.getValuesMap().set('BatchTimeout', value(batchTimeout.serializeBinary()));

  const channelGroup = new common.ConfigGroup();
  channelGroup.setModPolicy('Admins');
  channelGroup.getGroupsMap().set('Application', application);
  channelGroup.getGroupsMap().set('Orderer', ordererGroup);
  const config = new common.Config();
  config.setSequence(0);
  config.setChannelGroup(channelGroup);
  const configEnvelope = new common.ConfigEnvelope();
  configEnvelope.setConfig(config);

  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.CONFIG);
  channelHeader.setChannelId(opts.channelId);
  channelHeader.setTimestamp(timestampPb.Timestamp.fromDate(new Date()));
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(serializeIdentity(opts.orderer.mspId, opts.orderer.peer.certPem));
  signatureHeader.setNonce(randomBytes(24));
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(configEnvelope.serializeBinary());
  const payloadBytes = payload.serializeBinary();
  const envelope = new common.Envelope();
  envelope.setPayload(payloadBytes);
  envelope.setSignature(signDer(opts.orderer.peer.keyPem, payloadBytes));
  const envelopeBytes = envelope.serializeBinary();

  const block = new common.Block();
  const blockHeader = new common.BlockHeader();
  blockHeader.setNumber(0);
  blockHeader.setDataHash(blockDataHash([envelopeBytes]));
  block.setHeader(blockHeader);
  const data = new common.BlockData();
  data.setDataList([envelopeBytes]);
  block.setData(data);
  const metadata = new common.BlockMetadata();
  // SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER, ORDERER, COMMIT_HASH; the ledger fills the filter.
  metadata.setMetadataList([new common.Metadata().serializeBinary(), new Uint8Array(0), new Uint8Array(1), new Uint8Array(0), new Uint8Array(0)]);
  block.setMetadata(metadata);
  return block.serializeBinary();
}
