/**
 * Every policy element Tollgate understands. A new policy is a folder under src/policies, one
 * line here, a row in docs/policies.md.
 * @module
 */
import type { PolicyDefinition } from '../policy-docs/compile.ts';
import { authenticationManagedIdentityDefinition } from './authentication-managed-identity/index.ts';
import { cacheLookupValueDefinition, cacheRemoveValueDefinition, cacheStoreValueDefinition } from './cache-value/index.ts';
import { cacheLookupDefinition, cacheStoreDefinition } from './cache-response/index.ts';
import { checkHeaderDefinition } from './check-header/index.ts';
import { chooseDefinition } from './choose/index.ts';
import { corsDefinition } from './cors/index.ts';
import { emitMetricDefinition } from './emit-metric/index.ts';
import { emitTokenMetricDefinition } from './emit-token-metric/index.ts';
import { logToEventhubDefinition } from './log-to-eventhub/index.ts';
import { forwardRequestDefinition } from './forward-request/index.ts';
import { getAuthorizationContextDefinition } from './get-authorization-context/index.ts';
import { ipFilterDefinition } from './ip-filter/index.ts';
import { llmContentSafetyDefinition } from './llm-content-safety/index.ts';
import { llmTokenLimitDefinition } from './llm-token-limit/index.ts';
import { quotaByKeyDefinition } from './quota-by-key/index.ts';
import { quotaDefinition } from './quota/index.ts';
import { rateLimitByKeyDefinition } from './rate-limit-by-key/index.ts';
import { rateLimitDefinition } from './rate-limit/index.ts';
import { mockResponseDefinition } from './mock-response/index.ts';
import { retryDefinition } from './retry/index.ts';
import { returnResponseDefinition } from './return-response/index.ts';
import { rewriteUriDefinition } from './rewrite-uri/index.ts';
import { sendRequestDefinition } from './send-request/index.ts';
import { semanticCacheLookupDefinition, semanticCacheStoreDefinition } from './semantic-cache/index.ts';
import { setBackendServiceDefinition } from './set-backend-service/index.ts';
import { setBodyDefinition } from './set-body/index.ts';
import { setHeaderDefinition } from './set-header/index.ts';
import { setMethodDefinition } from './set-method/index.ts';
import { setQueryParameterDefinition } from './set-query-parameter/index.ts';
import { setStatusDefinition } from './set-status/index.ts';
import { setVariableDefinition } from './set-variable/index.ts';
import { traceDefinition } from './trace/index.ts';
import { validateAzureAdTokenDefinition } from './validate-azure-ad-token/index.ts';
import { validateContentDefinition } from './validate-content/index.ts';
import { validateJwtDefinition } from './validate-jwt/index.ts';

export const POLICY_DEFINITIONS: readonly PolicyDefinition[] = [
  authenticationManagedIdentityDefinition,
  cacheLookupValueDefinition,
  cacheRemoveValueDefinition,
  cacheStoreValueDefinition,
  cacheLookupDefinition,
  cacheStoreDefinition,
  checkHeaderDefinition,
  chooseDefinition,
  corsDefinition,
  emitMetricDefinition,
  emitTokenMetricDefinition,
  logToEventhubDefinition,
  forwardRequestDefinition,
  getAuthorizationContextDefinition,
  ipFilterDefinition,
  llmContentSafetyDefinition,
  llmTokenLimitDefinition,
  quotaByKeyDefinition,
  quotaDefinition,
  rateLimitByKeyDefinition,
  rateLimitDefinition,
  mockResponseDefinition,
  retryDefinition,
  returnResponseDefinition,
  rewriteUriDefinition,
  sendRequestDefinition,
  semanticCacheLookupDefinition,
  semanticCacheStoreDefinition,
  setBackendServiceDefinition,
  setBodyDefinition,
  setHeaderDefinition,
  setMethodDefinition,
  setQueryParameterDefinition,
  setStatusDefinition,
  setVariableDefinition,
  traceDefinition,
  validateAzureAdTokenDefinition,
  validateContentDefinition,
  validateJwtDefinition,
];
