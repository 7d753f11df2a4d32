/**
 * gRPC errors as Fabric's gateway returns them: a status code, a message, and ErrorDetail
 * entries (address, MSP id, message per endpoint) packed into `grpc-status-details-bin`,
 * which the fabric-gateway client unpacks into `GatewayError.details`.
 */
import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { gateway, google } from '@hyperledger/fabric-protos';
import anyPb from 'google-protobuf/google/protobuf/any_pb';

export interface EndpointErrorDetail {
  address: string;
  mspId: string;
  message: string;
}

/** A gRPC error carrying Fabric's ErrorDetail entries. */
export function rpcError(code: status, message: string, details: EndpointErrorDetail[] = []): ServerErrorResponse {
  const error = Object.assign(new Error(message), { code, details: message }) as ServerErrorResponse;
  if (details.length > 0) {
    const rpcStatus = new google.rpc.Status();
    rpcStatus.setCode(code);
    rpcStatus.setMessage(message);
    rpcStatus.setDetailsList(
      details.map((d) => {
        const detail = new gateway.ErrorDetail();
        detail.setAddress(d.address);
        detail.setMspId(d.mspId);
        detail.setMessage(d.message);
        const any = new anyPb.Any();
        any.pack(detail.serializeBinary(), 'gateway.ErrorDetail');
        return any;
      }),
    );
    const metadata = new Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(rpcStatus.serializeBinary()));
    error.metadata = metadata;
  }
  return error;
}

export { status };
