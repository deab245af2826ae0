/**
 * `cache-lookup-value` / `cache-store-value` / `cache-remove-value`: a key-value cache for policies
 * (APIM's "internal" or "external" cache). Both caching types use the gateway's cache store (in
 * memory now; Redis when the state store is configured).
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import type { Dyn } from '../../policy-docs/values.ts';

const CACHING_TYPES = ['prefer-external', 'external', 'internal'] as const;

export const cacheLookupValueDefinition: PolicyDefinition = {
  names: ['cache-lookup-value'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('key', true);
    const variable = r.literal('variable-name', true) as string;
    const fallback = r.any('default-value');
    r.oneOf('caching-type', CACHING_TYPES, 'prefer-external');
    const cache = env.services.cache;
    return {
      name: 'cache-lookup-value',
      async run(ctx) {
        const value = await cache.get(key(ctx));
        if (value !== undefined) ctx.variables.set(variable, value);
        else if (fallback !== undefined) ctx.variables.set(variable, fallback(ctx));
      },
    };
  },
};

export const cacheStoreValueDefinition: PolicyDefinition = {
  names: ['cache-store-value'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('key', true);
    const value = r.any('value', true) as Dyn<unknown>;
    const duration = r.int('duration', { min: 1, max: 31_536_000, required: true }) as Dyn<number>;
    r.oneOf('caching-type', CACHING_TYPES, 'prefer-external');
    const cache = env.services.cache;
    return {
      name: 'cache-store-value',
      async run(ctx) {
        await cache.set(key(ctx), value(ctx), duration(ctx));
      },
    };
  },
};

export const cacheRemoveValueDefinition: PolicyDefinition = {
  names: ['cache-remove-value'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    r.children([]);
    const key = r.string('key', true);
    r.oneOf('caching-type', CACHING_TYPES, 'prefer-external');
    const cache = env.services.cache;
    return {
      name: 'cache-remove-value',
      async run(ctx) {
        await cache.delete(key(ctx));
      },
    };
  },
};
