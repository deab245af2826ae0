/**
 * Gives a test file a managed identity: an identity simulator whose App Service endpoint is put
 * in IDENTITY_ENDPOINT / IDENTITY_HEADER for the whole file (the Azure SDK reads only
 * `process.env`, and MSAL keeps the first endpoint it finds for the life of the process; node
 * --test runs each file in its own process). Backend simulators accept the tokens it issues.
 */
import { after, before } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';

export function useSimulatedManagedIdentity(): { readonly sim: () => RunningSimulator } {
  const saved = { endpoint: process.env['IDENTITY_ENDPOINT'], header: process.env['IDENTITY_HEADER'] };
  let idp: RunningSimulator | undefined;
  before(async () => {
    idp = await startSimulator({ name: 'identity' });
    process.env['IDENTITY_ENDPOINT'] = idp.identity.identityEndpoint;
    process.env['IDENTITY_HEADER'] = idp.identity.identityHeader;
  });
  after(async () => {
    for (const [k, v] of [['IDENTITY_ENDPOINT', saved.endpoint], ['IDENTITY_HEADER', saved.header]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await idp?.close();
  });
  return {
    sim: () => {
      if (idp === undefined) throw new Error('the identity simulator starts in before()');
      return idp;
    },
  };
}
