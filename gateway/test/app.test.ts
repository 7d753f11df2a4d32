import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from './helpers';
import { auth, FakeLedger, testGateway } from './helpers';

describe('gateway app', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('registers the organization\'s profile at start when it is missing, and not again when it matches', async () => {
    gw = await testGateway();
    const registered = gw.ledger.submitted('RegisterOrganization');
    expect(registered).toHaveLength(1);
    expect(JSON.parse(registered[0]!.args[0]!)).toEqual({
      mspId: 'GovMSP', name: gw.config.orgName, role: 'government', gatewayUrl: gw.config.publicUrl,
      requestKey: gw.config.keys.requestKey.publicKey, boxKey: gw.config.keys.boxKey.publicKey,
    });
    await gw.restart();
    expect(gw.ledger.submitted('RegisterOrganization')).toHaveLength(1);
  });

  it('updates the profile when the gateway URL changed', async () => {
    const ledger = new FakeLedger('GovMSP');
    ledger.orgs.set('GovMSP', { mspId: 'GovMSP', name: 'x', role: 'government', gatewayUrl: 'http://old', requestKey: 'k', boxKey: 'b' });
    gw = await testGateway({}, ledger);
    expect(JSON.parse(ledger.submitted('RegisterOrganization')[0]!.args[0]!)).toMatchObject({ gatewayUrl: gw.config.publicUrl });
  });

  it('serves an OpenAPI 3 document built from the route schemas', async () => {
    gw = await testGateway();
    const res = await gw.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/records/', '/v1/catalogue/', '/v1/consents/', '/v1/audit/ledger', '/v1/objections/{id}/resolve']));
    expect(doc.paths['/v1/records/']?.post?.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/v1/records/']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '409']));
    const page = await gw.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND, quoting the request id', async () => {
    gw = await testGateway();
    const res = await gw.app.inject({ method: 'GET', url: '/v1/nothing', headers: { ...auth, 'x-request-id': 'req-42' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    expect(res.headers['x-request-id']).toBe('req-42');
  });

  it('limits each caller separately (429 RATE_LIMITED)', async () => {
    gw = await testGateway({ limits: { bodyBytes: 1_000_000, ratePerMinute: 3 } });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await gw.app.inject({ method: 'GET', url: '/v1/catalogue', headers: auth })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await gw.app.inject({ method: 'GET', url: '/v1/catalogue', headers: auth });
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    const other = await gw.app.inject({ method: 'GET', url: '/v1/catalogue', headers: { authorization: 'Bearer another-callers-token-xyz' } });
    expect(other.statusCode).toBe(401);
  });

  it('hides the details of a server error', async () => {
    gw = await testGateway();
    const res = await gw.app.inject({ method: 'GET', url: '/v1/audit/ledger', headers: auth });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'LEDGER_ERROR', message: 'internal error; see the gateway log' });
  });

  it('creates a catalogue entry with the data grade of its record type', async () => {
    gw = await testGateway();
    const res = await gw.app.inject({
      method: 'POST', url: '/v1/catalogue', headers: auth,
      payload: { subject: ' 91350100m000100y43 ', recordType: 'gov.admin-penalty', title: '行政处罚信息', pricePerAccess: 100 },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      txId: expect.any(String) as string,
      entry: { entryId: 'GovMSP.gov.admin-penalty.91350100M000100Y43', subject: '91350100M000100Y43', publisher: 'GovMSP', dataGrade: 2, status: 'active' },
    });
    const bad = await gw.app.inject({
      method: 'POST', url: '/v1/catalogue', headers: auth,
      payload: { subject: '91350100M000100Y4Z', recordType: 'gov.admin-penalty', title: 't', pricePerAccess: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'USCC_INVALID' });
  });
});
